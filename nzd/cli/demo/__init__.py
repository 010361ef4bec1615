"""``nzd demo``: a whole simulated district on one machine."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        mqtt: str | None = typer.Option(None, help="Use this broker (mqtt://host:port) instead of the "
                                        "embedded one."),
        influx: str | None = typer.Option(None, help="Use this InfluxDB (http://host:8086) instead of "
                                          "the embedded SQLite store."),
        influx_database: str = typer.Option("nzd_demo", help="InfluxDB database for the demo."),
        speed: float = typer.Option(60.0, min=1.0, max=3600.0,
                                    help="Simulated seconds per real second (60: a day in 24 min); the "
                                         "coordinator plans once per simulated quarter-hour."),
        start: str | None = typer.Option(None, help="Simulated time at start: HH:MM today (district "
                                         "time) or an ISO date-time; default now."),
        host: str = typer.Option("127.0.0.1", help="Dashboard listen address."),
        port: int = typer.Option(8080, min=1, max=65535, help="Dashboard port."),
        poll_interval: float = typer.Option(2.0, min=0.1, max=60.0, help="Gateway poll interval, s."),
        directory: Path | None = typer.Option(None, "--dir", file_okay=False,
                                              help="Where configs, logs and data go (default: a new "
                                                   "temporary folder)."),
        run_for: float | None = typer.Option(None, min=0.0, help="Stop by itself after this many seconds."),
    ) -> None:
        """Start a simulated district of eight firms with gateways, broker, store, ingest,
        coordinator and the API with its dashboard; print the dashboard URL and demo credentials.
        Ctrl-C stops every process it started."""
        import asyncio

        from nzd.cli.demo._run import DemoOptions, run_demo

        code = asyncio.run(run_demo(DemoOptions(
            mqtt_url=mqtt, influx_url=influx, influx_database=influx_database, speed=speed,
            api_host=host, api_port=port, directory=directory, run_for_s=run_for, start=start,
            poll_interval_s=poll_interval)))
        raise typer.Exit(code)
