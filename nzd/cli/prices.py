"""``nzd prices import FILE``: hourly zonal prices into the store, for the TIP of shared energy."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    prices_app = typer.Typer(help="Hourly zonal prices (Pz) for settlement.", no_args_is_help=True)

    @prices_app.command("import")
    def import_prices(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: time,eur_per_mwh (hourly)"),
        district: Path | None = typer.Option(None, "--district", "-d", exists=True, dir_okay=False,
                                             help="District registry (default: NZD_DISTRICT_FILE)."),
    ) -> None:
        """Store hourly zonal prices (docs/settlement.md); an hour imported again is replaced.
        Store settings from NZD_* variables (NZD_INFLUX_URL, ...)."""
        import asyncio

        from nzd.config import load_district
        from nzd.prices import read_price_csv, write_prices
        from nzd.settings import ServiceSettings
        from nzd.store import StoreError, open_store

        settings = ServiceSettings()
        if district is not None:
            settings = settings.model_copy(update={"district_file": district})
        try:
            registry = load_district(settings.district_file)
            prices = read_price_csv(file)
        except ValueError as exc:
            typer.echo(f"nzd prices import: {exc}", err=True)
            raise typer.Exit(2) from None
        store = open_store(settings)

        async def run() -> int:
            await store.open()
            try:
                return await write_prices(store, district=registry.district, prices=prices, source=file.name)
            finally:
                await store.close()

        try:
            n = asyncio.run(run())
        except StoreError as exc:
            typer.echo(f"nzd prices import failed: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{n} hourly prices stored for district {registry.district!r}")

    app.add_typer(prices_app, name="prices")
