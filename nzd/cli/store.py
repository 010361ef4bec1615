"""``nzd store init``: prepare the configured store (retention and downsampling on InfluxDB 1.x);
``nzd store backfill``: fill the rollups of a period from raw readings."""

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

    @store_app.command("backfill")
    def backfill(
        from_: str = typer.Option(..., "--from", help="First local date, e.g. 2026-01-01."),
        to: str = typer.Option(..., "--to", help="Day after the last, e.g. 2027-01-01."),
        timezone: str = typer.Option("Europe/Rome", help="Time zone of the dates."),
        wait_s: float = typer.Option(10.0, min=0, help="How long to wait for InfluxDB to answer."),
    ) -> None:
        """Fill the 15-minute rollups from raw readings of a period (InfluxDB 1.x): after an import
        straight into the store, or for data stored before `nzd store init` created the continuous
        queries. Then tell the API: POST /api/v1/ops/recompute with the same period (or restart it)."""
        import asyncio
        from datetime import date, datetime
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from nzd.settings import ServiceSettings
        from nzd.store import InfluxStore, StoreError, open_store
        from nzd.store.retention import backfill_rollups

        try:
            tz = ZoneInfo(timezone)
            start, end = (datetime.combine(date.fromisoformat(d), datetime.min.time(), tz)
                          for d in (from_, to))
        except (ValueError, ZoneInfoNotFoundError) as exc:
            typer.echo(f"nzd store backfill: {exc}", err=True)
            raise typer.Exit(2) from None
        if start >= end:
            typer.echo("nzd store backfill: --from must be before --to", err=True)
            raise typer.Exit(2)
        settings = ServiceSettings()
        store = open_store(settings)
        if not isinstance(store, InfluxStore):
            typer.echo("SQLite has no rollups: its readings are read as they are; nothing to do")
            return

        async def run() -> int:
            store.http.retry_total_s = wait_s
            await store.http.open()
            try:
                return await backfill_rollups(store.http, settings.influx_database,
                                              start_ms=int(start.timestamp() * 1000),
                                              end_ms=int(end.timestamp() * 1000))
            finally:
                await store.http.close()

        try:
            chunks = asyncio.run(run())
        except StoreError as exc:
            typer.echo(f"nzd store backfill failed: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"rollups of {from_} to {to} rebuilt from raw readings ({chunks} chunks); tell the API: "
                   f"POST /api/v1/ops/recompute?from={start.isoformat()}&to={end.isoformat()}")

    app.add_typer(store_app, name="store")
