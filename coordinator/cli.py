"""`nzd plan` (offline simulation) and the `nzd coordinator` group (the live service adds `run`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from coordinator.forecast import SiteHistory
    from nzd.config import DistrictConfig

__all__ = ["coordinator_app", "register"]

coordinator_app = typer.Typer(help="The district coordinator: planning, dispatch and acknowledgements.",
                              no_args_is_help=True)


def _start_ms(day: str, timezone: str) -> int:
    try:
        d = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"{day!r} is not a date YYYY-MM-DD", param_hint="--start") from None
    return int(datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(timezone)).timestamp() * 1000)


def plan(
    district: Path = typer.Option(..., "--district", "-d", exists=True, dir_okay=False,
                                  help="District registry YAML."),
    start: str = typer.Option(..., "--start", help="First day to plan, YYYY-MM-DD (district local time)."),
    days: int = typer.Option(1, "--days", min=1, max=366, help="Number of days to simulate."),
    history: Path | None = typer.Option(None, "--history", exists=True, dir_okay=False,
                                        help="CSV time,site,load_kw,pv_kw of measured history; default: "
                                             "simulated profiles (BDEW load, PV with TRY weather)."),
    from_store: bool = typer.Option(False, "--from-store",
                                    help="Measured history from the store configured by NZD_* variables "
                                         "(InfluxDB or SQLite): the days planned and 28 days before them."),
    forecast: str = typer.Option("perfect", "--forecast",
                                 help="perfect (plan on the actuals) or forecast (plan on forecasts)."),
    out: Path = typer.Option(Path("plan-out"), "--out", "-o", file_okay=False, help="Output directory."),
    time_limit_s: float = typer.Option(20.0, "--time-limit", min=0.1, help="Solver time limit per plan, s."),
    gap: float = typer.Option(0.01, "--gap", min=0.0, max=0.99, help="Relative MIP gap."),
) -> None:
    """Simulate planning offline, day by day, against the fair and the do-nothing baselines; CSV, PNG."""
    from coordinator.model import DistrictModel
    from coordinator.offline import read_history_csv, simulate, simulated_history, write_csv, write_png
    from coordinator.optimiser import PlanOptions
    from nzd.config import load_district
    from nzd.errors import ConfigError

    if forecast not in ("perfect", "forecast"):
        raise typer.BadParameter("choose perfect or forecast", param_hint="--forecast")
    try:
        config = load_district(district)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    model = DistrictModel.from_config(config)
    start_ms = _start_ms(start, config.timezone)
    end_ms = start_ms + days * 86_400_000
    try:
        if history is not None and from_store:
            raise ValueError("choose --history or --from-store, not both")
        if history is not None:
            hist = read_history_csv(history, model)
        elif from_store:
            hist = _store_history(config, end_ms=end_ms, days=days + 28)
        else:
            # Four weeks before the first day feed the forecasts.
            hist = simulated_history(model, start_ms=start_ms - 28 * 86_400_000, end_ms=end_ms + 86_400_000)
        with typer.progressbar(length=days, label="planning") as bar:
            sim = simulate(model, hist, start_ms=start_ms, days=days, forecast=forecast,  # type: ignore[arg-type]
                           options=PlanOptions(time_limit_s=time_limit_s, mip_rel_gap=gap),
                           on_day=lambda _day: bar.update(1))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    out.mkdir(parents=True, exist_ok=True)
    write_csv(sim, out / "plan.csv")
    write_png(sim, out / "plan.png", title=f"{config.name or config.district}: {start}, {days} day(s)")
    typer.echo(json.dumps({**sim.summary(), "csv": str(out / "plan.csv"), "png": str(out / "plan.png")}))


@coordinator_app.command("run")
def run(
    district: Path | None = typer.Option(None, "--district", "-d", dir_okay=False,
                                         help="District registry YAML (default NZD_DISTRICT_FILE)."),
    interval_s: float | None = typer.Option(None, "--interval", min=0.1,
                                            help="Planning interval, s (NZD_PLANNING_INTERVAL_S, 900)."),
    metrics_port: int | None = typer.Option(None, "--metrics-port", min=0, max=65535,
                                            help="Port of /healthz and /metrics (NZD_METRICS_PORT, 9103)."),
) -> None:
    """Run the coordinator: live state from MQTT, a plan per interval, setpoints, acknowledgements.

    Everything else comes from NZD_* variables (see docs/dispatch.md). Stops on SIGTERM or Ctrl-C.
    """
    from coordinator.service._run import main

    overrides: dict[str, object] = {}
    if district is not None:
        overrides["district_file"] = district
    if interval_s is not None:
        overrides["planning_interval_s"] = interval_s
    if metrics_port is not None:
        overrides["metrics_port"] = metrics_port
    code = main(**overrides)
    if code:
        raise typer.Exit(code)


def _store_history(config: DistrictConfig, *, end_ms: int, days: int) -> SiteHistory:
    import asyncio

    from coordinator.service._history import load_history
    from nzd.settings import ServiceSettings
    from nzd.store.factory import open_store

    async def fetch() -> SiteHistory | None:
        store = open_store(ServiceSettings())
        await store.open()
        try:
            return await load_history(store, config, end_ms=end_ms, days=days)
        finally:
            await store.close()

    found = asyncio.run(fetch())
    if found is None:
        raise ValueError("the store holds no grid readings for this district in that period")
    return found


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.add_typer(coordinator_app, name="coordinator")
