"""``nzd ingest``: run one ingest worker."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        client_id: str | None = typer.Option(None, help="MQTT client id (each worker its own); "
                                             "default NZD_INGEST_CLIENT_ID, else the MQTT username, "
                                             "else nzd-ingest-1"),
        metrics_port: int | None = typer.Option(None, help="Port of /metrics and /healthz, 0 = off; "
                                                "default NZD_INGEST_METRICS_PORT or 9102"),
    ) -> None:
        """Store every MQTT telemetry reading, acknowledging each only after it is stored."""
        import asyncio

        from pydantic import ValidationError

        from coordinator.ingest.service import configure_logging, run_ingest
        from coordinator.ingest.settings import IngestSettings
        from nzd.settings import parse_mqtt_url

        overrides: dict[str, object] = {}
        if client_id is not None:
            overrides["ingest_client_id"] = client_id
        if metrics_port is not None:
            overrides["ingest_metrics_port"] = metrics_port
        try:
            settings = IngestSettings(**overrides)  # type: ignore[arg-type]
            parse_mqtt_url(settings.mqtt_url)
        except (ValidationError, ValueError) as exc:
            typer.echo(f"nzd ingest: invalid settings: {exc}", err=True)
            raise typer.Exit(2) from None
        configure_logging(settings.log_level, json_logs=settings.log_json, secrets=settings.secret_values())
        asyncio.run(run_ingest(settings))
