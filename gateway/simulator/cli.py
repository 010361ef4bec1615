"""``nzd simulate CONFIG``: serve simulated devices until interrupted."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        config: Path = typer.Argument(..., help="Simulator config (YAML), see firmware_configs/examples."),
        speed: float | None = typer.Option(None, help="Simulated seconds per second (overrides the config)."),
        log_level: str = typer.Option("INFO", help="Python log level."),
    ) -> None:
        """Serve simulated Modbus devices (TCP and RTU) with realistic values and injected faults."""
        import asyncio
        import logging
        import signal

        from gateway.simulator import Simulator, load_simulator_config
        from nzd.errors import ConfigError

        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("pymodbus").setLevel(logging.WARNING)
        try:
            cfg = load_simulator_config(config)
        except ConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        if speed is not None:
            cfg = cfg.model_copy(update={"simulator": cfg.simulator.model_copy(update={"speed": speed})})

        async def main() -> None:
            # SIGTERM (a demo or systemd stopping us) ends as cleanly as Ctrl-C: socat goes too
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            sim = Simulator(cfg)
            try:
                await sim.start()
            except (OSError, RuntimeError) as exc:  # a port in use, a serial port that cannot open
                typer.echo(f"cannot start the simulator: {exc}", err=True)
                raise typer.Exit(1) from None
            try:
                for dev in sim.devices.values():
                    t = dev.cfg.transport
                    where = f"tcp {t.host}:{t.port}" if t.type == "tcp" else f"rtu bus {t.bus}"
                    what = f"{dev.profile.manufacturer} {dev.profile.model}"
                    typer.echo(f"{dev.name}: {what}, unit {dev.unit_id}, {where}")
                for bus, pair in sim.ptys.items():
                    typer.echo(f"serial bus {bus}: point the gateway's bus port at {pair.client_port}")
                typer.echo(f"simulating at {cfg.simulator.speed:g}x; Ctrl-C stops")
                await stop.wait()
            finally:
                await sim.stop()

        asyncio.run(main())
        typer.echo("stopped")
