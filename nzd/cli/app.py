"""Root typer app; each package registers its own subcommands.

Only the CLI imports gateway, coordinator and api. Heavy imports stay inside the
command functions so that ``nzd --help`` is instant.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

from nzd._version import __version__
from nzd.cli.config import config_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="nzd",
    help="Net-Zero District: gateways, ingest, coordinator and API for a district's energy and water.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(config_app, name="config")

#: Modules that define ``register(app)``; each adds its commands.
_COMMAND_MODULES = (
    "nzd.cli.store",  # nzd store init
    "nzd.cli.prices",  # nzd prices import
    "gateway.cli",  # nzd gateway run
    "gateway.simulator.cli",  # nzd simulate
    "coordinator.ingest.cli",  # nzd ingest
    "coordinator.cli",  # nzd coordinator run, nzd plan
    "coordinator.scenarios.cli",  # nzd scenario run, compare
    "api.cli",  # nzd api
    "nzd.cli.demo",  # nzd demo
)


@app.command()
def version() -> None:
    """Print the software version and the MQTT contract version."""
    from nzd.messages import CONTRACT_VERSION

    typer.echo(f"nzd {__version__} (contract v{CONTRACT_VERSION})")


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:  # its parent package does not exist (yet)
            continue
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    app()
