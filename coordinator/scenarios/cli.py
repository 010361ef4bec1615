"""``nzd scenario run FILE`` and ``nzd scenario compare DIR...``."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    scenario_app = typer.Typer(
        help="Scenarios: what to build where, and what it earns (docs/scenarios.md).", no_args_is_help=True
    )

    @scenario_app.command("run")
    def run(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Scenario YAML."),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Output folder (default: ./scenario-NAME)."
        ),
    ) -> None:
        """Size PV and batteries for the scenario; write CSV, PNG charts and report.html."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from coordinator.scenarios import SizingError, load_scenario, run_scenario, write_report
        from nzd.errors import ConfigError

        try:
            spec = load_scenario(file)
        except (ConfigError, ValueError) as exc:
            typer.echo(f"nzd scenario run: {exc}", err=True)
            raise typer.Exit(2) from None
        folder = out or Path(f"scenario-{spec.name}")
        with Progress(
            TextColumn("{task.description:<32}"), BarColumn(), TimeElapsedColumn(), transient=True
        ) as bar:
            task = bar.add_task("starting", total=1.0)
            try:
                result = run_scenario(
                    spec, progress=lambda stage, done: bar.update(task, description=stage, completed=done)
                )
            except (SizingError, ValueError, OSError) as exc:
                typer.echo(f"nzd scenario run: {exc}", err=True)
                raise typer.Exit(1) from None
        write_report(result, folder)
        f = result["finance"]
        typer.echo(
            f"{spec.name}: {sum(s['kwp'] for s in result['surfaces']):.0f} kWp PV, "
            f"{sum(b['kwh'] for b in result['batteries']):.0f} kWh storage, "
            f"capex {result['capex_eur']:,.0f} EUR, NPV {f['npv_eur']:,.0f} EUR, "
            f"CO2 avoided {result['co2_avoided_t_per_year']:.1f} t/year"
        )
        typer.echo(f"report: {folder / 'report.html'}")

    @scenario_app.command("compare")
    def compare_cmd(
        folders: list[Path] = typer.Argument(
            ..., exists=True, file_okay=False, help="Output folders of `nzd scenario run`."
        ),
        csv_out: Path | None = typer.Option(None, "--csv", help="Also write the table as CSV."),
    ) -> None:
        """Scenarios side by side: one row per figure, one column per scenario."""
        import csv
        import json

        from coordinator.scenarios import compare

        results = []
        for folder in folders:
            path = folder / "result.json"
            if not path.is_file():
                typer.echo(f"nzd scenario compare: {folder} has no result.json", err=True)
                raise typer.Exit(2)
            results.append(json.loads(path.read_text()))
        rows = compare(results)
        names = [r["name"] for r in results]
        width = max(len(r["figure"]) for r in rows)
        typer.echo("figure".ljust(width) + "".join(f"{n:>18}" for n in names))
        for row in rows:
            cells = "".join(f"{_cell(row[n]):>18}" for n in names)
            typer.echo(row["figure"].ljust(width) + cells)
        if csv_out is not None:
            with csv_out.open("w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=["figure", *names])
                w.writeheader()
                w.writerows(rows)

    @scenario_app.command("sweep")
    def sweep_cmd(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Scenario YAML."),
        import_price: str = typer.Option("1", "--import-price", help="Import price factors, e.g. 0.8,1,1.2."),
        capex: str = typer.Option("1", "--capex", help="PV capex factors, e.g. 0.8,1,1.2."),
        dask: str | None = typer.Option(
            None, "--dask", help="A Dask scheduler's address; default: local processes."
        ),
        processes: int = typer.Option(2, "--processes", min=1, help="Local processes (without --dask)."),
        out: Path = typer.Option(Path("sweep"), "--out", "-o", help="Folder for one report per scenario."),
    ) -> None:
        """Run the scenario once per combination of factors, in parallel; write reports and a comparison."""
        import csv

        from coordinator.scenarios import compare, load_scenario, write_report
        from coordinator.scenarios._sweep import sensitivities, sweep

        try:
            spec = load_scenario(file)
            factors = [[float(x) for x in v.split(",")] for v in (import_price, capex)]
        except ValueError as exc:
            typer.echo(f"nzd scenario sweep: {exc}", err=True)
            raise typer.Exit(2) from None
        specs = sensitivities(spec, import_price_factors=factors[0], pv_capex_factors=factors[1])
        typer.echo(f"{len(specs)} scenarios on {dask or f'{processes} local processes'}")
        results = sweep(specs, dask_address=dask, processes=processes)
        for r in results:
            write_report(r, out / r["name"])
        rows = compare(results)
        out.mkdir(parents=True, exist_ok=True)
        with (out / "compare.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["figure", *[r["name"] for r in results]])
            w.writeheader()
            w.writerows(rows)
        for r in results:
            f = r["finance"]
            typer.echo(
                f"{r['name']}: NPV {f['npv_eur']:,.0f} EUR, {sum(s['kwp'] for s in r['surfaces']):.0f} kWp"
            )
        typer.echo(f"comparison: {out / 'compare.csv'}")

    @scenario_app.command("worker")
    def worker(
        poll_s: float = typer.Option(
            2.0, "--poll", min=0.1, help="Seconds between looks for queued scenarios."
        ),
        once: bool = typer.Option(False, "--once", help="Run what is queued, then stop."),
    ) -> None:
        """Run scenarios submitted through the API (SCENARIO events in the store); results go back there.
        Store and registry from NZD_* variables (NZD_INFLUX_URL, NZD_DISTRICT_FILE, ...)."""
        import asyncio

        from coordinator.scenarios._jobs import run_pending, worker_loop
        from nzd.config import load_district
        from nzd.settings import ServiceSettings
        from nzd.store import StoreError, open_store

        settings = ServiceSettings()
        registry = load_district(settings.district_file)
        store = open_store(settings)

        async def go() -> None:
            await store.open()
            try:
                if once:
                    n = await run_pending(
                        store, district=registry.district, district_file=settings.district_file
                    )
                    typer.echo(f"{n} scenario(s) run")
                else:
                    await worker_loop(
                        store, district=registry.district, district_file=settings.district_file, poll_s=poll_s
                    )
            finally:
                await store.close()

        try:
            asyncio.run(go())
        except StoreError as exc:
            typer.echo(f"nzd scenario worker: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            pass

    app.add_typer(scenario_app, name="scenario")


def _cell(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
    return str(v)
