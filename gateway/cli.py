"""``nzd gateway run CONFIG``."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    gateway_app = typer.Typer(help="Run a gateway: poll Modbus devices, publish over MQTT, apply setpoints.",
                              no_args_is_help=True)

    @gateway_app.command("run")
    def run(
        config: Path = typer.Argument(..., help="Gateway config (YAML), see firmware_configs/examples."),
        log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING or ERROR."),
        metrics_port: int | None = typer.Option(None, "--metrics-port",
                                                help="Serve Prometheus metrics on this port."),
        metrics_addr: str = typer.Option("127.0.0.1", "--metrics-addr",
                                         help="Address the metrics server listens on."),
        log_json: bool = typer.Option(False, "--log-json", help="One JSON object per log line."),
    ) -> None:
        """Poll the configured devices and publish their readings until SIGTERM or Ctrl-C.

        Readings are queued on disk (buffer.path) before they are published, so
        nothing is lost while the broker is unreachable or if the gateway is killed.
        """
        import asyncio

        from gateway.delivery import broker_password
        from gateway.service import configure_logging, run_gateway
        from nzd.config import load_gateway_config
        from nzd.errors import ConfigError

        configure_logging(log_level, json_logs=log_json)
        try:
            cfg = load_gateway_config(config)
            password = broker_password(cfg.broker)
            # Again, now that the broker password is known: the logs never show it.
            configure_logging(log_level, json_logs=log_json, secrets=[password] if password else [])
            asyncio.run(run_gateway(cfg, metrics_port=metrics_port, metrics_addr=metrics_addr))
        except ConfigError as exc:
            for line in exc.errors:
                typer.echo(line, err=True)
            raise typer.Exit(2) from None

    app.add_typer(gateway_app, name="gateway")
