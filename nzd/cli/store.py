"""``nzd store init``: prepare the configured store (retention and downsampling on InfluxDB 1.x)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    store_app = typer.Typer(help="Set up the telemetry store.", no_args_is_help=True)

    @store_app.command("init")
    def init(
        raw_days: int = typer.Option(90, min=1, help="Days to keep every raw reading."),
        downsampled_years: int = typer.Option(10, min=1, help="Years to keep the 15-minute aggregates."),
        wait_s: float = typer.Option(10.0, min=0, help="How long to wait for InfluxDB to answer."),
    ) -> None:
        """Create the database, retention policies and the 15-minute continuous query (InfluxDB 1.x);
        on SQLite, create the schema. Settings from NZD_* variables (NZD_INFLUX_URL, ...)."""
        import asyncio

        from nzd.settings import ServiceSettings
        from nzd.store import InfluxStore, StoreError, open_store
        from nzd.store.retention import RetentionPlan, apply_retention

        settings = ServiceSettings()
        store = open_store(settings)

        async def run() -> list[str]:
            if not isinstance(store, InfluxStore):
                await store.open()
                await store.close()
                return []
            plan = RetentionPlan(database=settings.influx_database, raw_days=raw_days,
                                 downsampled_days=downsampled_years * 366)
            store.http.retry_total_s = wait_s
            await store.http.open()
            try:
                return await apply_retention(store.http, plan)
            finally:
                await store.http.close()

        try:
            statements = asyncio.run(run())
        except (StoreError, ValueError) as exc:
            typer.echo(f"nzd store init failed: {exc}", err=True)
            raise typer.Exit(1) from None
        if not statements:
            typer.echo(f"SQLite store ready at {settings.sqlite_path} (no retention: it keeps everything)")
            return
        for stmt in statements:
            typer.echo(stmt)
        typer.echo(f"InfluxDB database {settings.influx_database!r} ready: raw data kept {raw_days} days, "
                   f"15-minute aggregates {downsampled_years} years, events for good")

    app.add_typer(store_app, name="store")
