"""``nzd api`` (serve the API and dashboard with uvicorn) and ``nzd api hash`` / ``nzd api token``."""

from __future__ import annotations

import typer

__all__ = ["register"]

api_app = typer.Typer(help="The API and the live dashboard.", invoke_without_command=True)


@api_app.callback()
def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Listen address (default NZD_API_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default NZD_API_PORT or 8080)."),
) -> None:
    """Serve the API and the dashboard (settings from NZD_* variables)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn
    from pydantic import ValidationError

    from api.app import create_app
    from api.logs import configure_logging
    from api.server import listen_socket, uvicorn_config
    from api.settings import ApiSettings

    try:
        settings = ApiSettings()
    except ValidationError as exc:  # e.g. a short NZD_JWT_SECRET: say which setting and why, no traceback
        for err in exc.errors(include_url=False):
            name = "NZD_" + ".".join(str(p) for p in err["loc"]).upper()
            typer.echo(f"{name}: {err['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None
    jwt_secret = [settings.jwt_secret.get_secret_value()] if settings.jwt_secret else []
    configure_logging(settings.log_level, json_logs=settings.log_json,
                      secrets=[*settings.secret_values(), *jwt_secret])
    sock = listen_socket(host or settings.api_host, port or settings.api_port,
                         send_buffer_bytes=settings.send_buffer_bytes)
    uvicorn.Server(uvicorn_config(create_app(settings), settings)).run(sockets=[sock])


@api_app.command("hash")
def hash_cmd() -> None:
    """Read a password from the terminal and print its argon2 hash for the users file."""
    from api.auth.users import hash_secret

    secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    typer.echo(hash_secret(secret))


@api_app.command("token")
def token_cmd(token_id: str = typer.Argument(..., help="A name for the token, [a-z0-9-]")) -> None:
    """Make an API token: print the token (give it to the user) and the entry for the users file."""
    from api.auth.users import new_api_token

    try:
        token, hashed = new_api_token(token_id)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(f"token: {token}")
    typer.echo("users file entry (under the user's tokens:):")
    typer.echo(f"  - id: {token_id}\n    hash: '{hashed}'")


export_app = typer.Typer(help="Exports for partners and portals.", no_args_is_help=True)


@export_app.command("open-data")
def open_data_cmd(
    year: int | None = typer.Option(None, help="Calendar year (default: yesterday's local year)."),
    out: str = typer.Option("open-data", help="Folder to write the package into (one per year inside)."),
    publisher: str | None = typer.Option(None, help="Publisher for the portal (default: the district)."),
) -> None:
    """Write the year's open-data package (Frictionless, CC-BY-4.0), validated before it is written."""
    import asyncio
    from pathlib import Path

    from api.open_data import OpenDataError, open_data_once

    try:
        path = asyncio.run(open_data_once(year=year, out_root=Path(out), publisher=publisher))
    except OpenDataError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(api_app, name="api")
    app.add_typer(export_app, name="export")
