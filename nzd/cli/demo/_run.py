"""Run the whole demo district on one machine until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import typer
import yaml

from nzd.cli.demo._broker import EmbeddedBroker
from nzd.cli.demo._processes import ProcessGroup
from nzd.cli.demo._scenario import SITES, DemoFiles, write_demo_files

__all__ = ["DemoOptions", "run_demo"]


@dataclass(frozen=True, slots=True)
class DemoOptions:
    mqtt_url: str | None
    influx_url: str | None
    influx_database: str
    speed: float
    api_host: str
    api_port: int
    directory: Path | None
    run_for_s: float | None = None
    """Stop by itself after this long (tests); None runs until Ctrl-C."""


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _write_users(files: DemoFiles) -> None:
    from api.auth.users import hash_secret

    users = [
        {"username": "operator", "role": "operator",
         "password_hash": hash_secret(files.credentials["operator"])},
        {"username": "tintoria", "role": "site_manager", "sites": [SITES[0].id],
         "password_hash": hash_secret(files.credentials["tintoria"])},
    ]
    files.users.write_text(yaml.safe_dump({"users": users}, sort_keys=False))
    files.users.chmod(0o600)


async def _wait_healthy(url: str, group: ProcessGroup, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if group.exited():
                return
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise TimeoutError(f"the API did not answer {url}/healthz within {timeout_s:.0f} s")


async def run_demo(options: DemoOptions) -> int:
    workdir = options.directory or Path(tempfile.mkdtemp(prefix="nzd-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    broker: EmbeddedBroker | None = None
    if options.mqtt_url:
        parts = urlsplit(options.mqtt_url)
        mqtt_host, mqtt_port = parts.hostname or "127.0.0.1", parts.port or 1883
        mqtt_url = options.mqtt_url
    else:
        mqtt_host, mqtt_port = "127.0.0.1", 1883 if _port_is_free(1883) else _free_port()
        mqtt_url = f"mqtt://{mqtt_host}:{mqtt_port}"
    files = write_demo_files(workdir, mqtt_host=mqtt_host, mqtt_port=mqtt_port,
                             device_ports=[_free_port() for _ in SITES], speed=options.speed)
    _write_users(files)
    planning_interval_s = max(10.0, 900.0 / max(options.speed, 1.0))
    env = {
        "NZD_MQTT_URL": mqtt_url,
        "NZD_DISTRICT_FILE": str(files.district),
        "NZD_SQLITE_PATH": str(workdir / "nzd.sqlite"),
        "NZD_LOG_JSON": "false",
        "NZD_INGEST_METRICS_PORT": "0",
        "NZD_METRICS_PORT": "0",
        "NZD_PLANNING_INTERVAL_S": str(planning_interval_s),
        "NZD_USERS_FILE": str(files.users),
    }
    if options.influx_url:
        env["NZD_INFLUX_URL"] = options.influx_url
        env["NZD_INFLUX_DATABASE"] = options.influx_database
    if not options.mqtt_url:
        # amqtt speaks MQTT 3.1.1 only: no shared subscription, no MQTT 5 session options.
        env["NZD_INGEST_SHARE_GROUP"] = ""
        env["NZD_INGEST_MQTT_VERSION"] = "3"
    group = ProcessGroup(log_dir=workdir, env=env)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    api_url = f"http://{options.api_host}:{options.api_port}"
    try:
        if not options.mqtt_url:
            broker = EmbeddedBroker(host=mqtt_host, port=mqtt_port)
            await broker.start()
        group.start("simulator", "simulate", str(files.simulator))
        for site, path in zip(SITES, files.gateways, strict=True):
            group.start(f"gateway-{site.id}", "gateway", "run", str(path))
        group.start("ingest", "ingest")
        group.start("coordinator", "coordinator", "run")
        group.start("api", "api", "--host", options.api_host, "--port", str(options.api_port))
        await _wait_healthy(api_url, group, timeout_s=60)
        typer.echo(f"nzd demo: {len(SITES)} firms of the district 'prato-demo' at {options.speed:g}x speed")
        typer.echo(f"  dashboard   {api_url}/")
        typer.echo(f"  operator    user 'operator'  password '{files.credentials['operator']}'")
        typer.echo(f"  site mgr    user 'tintoria'  password '{files.credentials['tintoria']}'")
        typer.echo(f"  broker      {mqtt_url}{' (embedded amqtt)' if broker else ''}")
        typer.echo(f"  store       {options.influx_url or workdir / 'nzd.sqlite'}")
        typer.echo(f"  logs        {workdir}")
        typer.echo("Ctrl-C stops everything.")
        deadline = None if options.run_for_s is None else time.monotonic() + options.run_for_s
        while not stop.is_set():
            dead = group.exited()
            if dead:
                for name, rc, log in dead:
                    typer.echo(f"{name} exited with code {rc}; see {log}", err=True)
                return 1
            if deadline is not None and time.monotonic() > deadline:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
        return 0
    finally:
        typer.echo("stopping ...", err=True)
        await asyncio.to_thread(group.stop)
        if broker is not None:
            await broker.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        typer.echo("stopped; nothing left running", err=True)
