"""Run the whole demo district on one machine until Ctrl-C (or SIGTERM, or ``--run-for``)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import secrets
import signal
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import typer
import yaml

from nzd.cli.demo._broker import EmbeddedBroker
from nzd.cli.demo._checks import (
    DemoError,
    check_influx,
    check_port_free,
    check_reachable,
    port_is_free,
    simulated_start,
)
from nzd.cli.demo._processes import ProcessGroup, leftovers
from nzd.cli.demo._scenario import SITES, DemoFiles, write_demo_files
from nzd.cli.demo._seed import seed_history
from nzd.clock import Clock
from nzd.ports import free_ports

__all__ = ["DemoOptions", "planning_interval_s", "run_demo"]

_DISTRICT_TZ = "Europe/Rome"


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
    start: str | None = None
    """Simulated time at start: HH:MM today or an ISO date-time; None: now."""
    poll_interval_s: float = 2.0
    startup_timeout_s: float = 60.0


def planning_interval_s(speed: float) -> float:
    """District seconds between plans: a quarter-hour, as in production, but never more often than
    every 5 real seconds (each plan solves the district MILP and sends setpoints); whole quarters."""
    return 900.0 * max(1, math.ceil(5.0 * speed / 900.0))


_HEAD_START_S = 8.0
"""Simulated time stands at the start for this long, while the processes come up."""


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


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _failure(group: ProcessGroup) -> str | None:
    dead = group.exited()
    if not dead:
        return None
    lines = []
    for name, rc, log in dead:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        lines.append(f"{name} exited with code {rc} (log: {log})" + "".join(f"\n    {t}" for t in tail))
    return "\n".join(lines)


async def _wait_until(check: Callable[[], bool | Awaitable[bool]], group: ProcessGroup, stop: asyncio.Event,
                      *, what: str, timeout_s: float) -> bool:
    """Poll ``check`` (sync or async callable) until true; False when asked to stop. A child that
    died or the timeout is a DemoError."""
    deadline = time.monotonic() + timeout_s
    while not stop.is_set():
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return True
        if (failure := _failure(group)) is not None:
            raise DemoError(f"while waiting for {what}:\n  {failure}")
        if time.monotonic() > deadline:
            raise DemoError(f"{what} not ready after {timeout_s:.0f} s; see the logs in {group.log_dir}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.3)
    return False


def _environment(options: DemoOptions, files: DemoFiles, workdir: Path, mqtt_url: str,
                 clock: Clock) -> dict[str, str]:
    interval = planning_interval_s(options.speed)
    run_id = secrets.token_hex(3)
    env = {
        "NZD_MQTT_URL": mqtt_url,
        "NZD_DISTRICT_FILE": str(files.district),
        "NZD_SQLITE_PATH": str(workdir / "nzd.sqlite"),
        "NZD_LOG_JSON": "false",
        "NZD_LOG_LEVEL": "INFO",
        "NZD_USERS_FILE": str(files.users),
        # ingest: its own group and session per run, so a shared broker's other clients are untouched
        "NZD_INGEST_METRICS_PORT": "0",
        "NZD_INGEST_CLIENT_ID": f"nzd-demo-ingest-{run_id}",
        "NZD_INGEST_SHARE_GROUP": f"demo-{run_id}",
        "NZD_INGEST_SESSION_EXPIRY_S": "600",
        # coordinator: one plan per simulated quarter-hour (district seconds); acks wait real seconds
        "NZD_METRICS_PORT": "0",
        "NZD_PLANNING_INTERVAL_S": f"{interval:g}",
        "NZD_ACK_TIMEOUT_S": f"{min(30.0, interval / options.speed):g}",
        # a reading is stale after a few polls, counted in district seconds
        "NZD_STATE_STALE_S": f"{max(300.0, 4 * options.poll_interval_s * options.speed):g}",
        # one district clock for every process
        **clock.env(),
    }
    if options.influx_url:
        env["NZD_INFLUX_URL"] = options.influx_url
        env["NZD_INFLUX_DATABASE"] = options.influx_database
    if not options.mqtt_url:
        # amqtt speaks MQTT 3.1.1 only and knows no shared subscriptions: one plain subscriber.
        env["NZD_INGEST_SHARE_GROUP"] = ""
        env["NZD_INGEST_MQTT_PROTOCOL"] = "3.1.1"
    return env


async def _start_all(options: DemoOptions, files: DemoFiles, group: ProcessGroup, stop: asyncio.Event,
                     device_ports: list[int], api_url: str) -> bool:
    typer.echo("starting the simulated factory floor ...", err=True)
    group.start("simulator", "simulate", str(files.simulator))
    ports_up = await _wait_until(lambda: all(_listening(p) for p in device_ports), group, stop,
                                 what="the simulated devices", timeout_s=options.startup_timeout_s)
    if not ports_up:
        return False
    typer.echo(f"starting {len(SITES)} gateways, ingest, the coordinator and the API ...", err=True)
    for site, path in zip(SITES, files.gateways, strict=True):
        group.start(f"gateway-{site.id}", "gateway", "run", str(path))
    group.start("ingest", "ingest")
    # NZD_MQTT_CLIENT_ID is read by the API too: set for the coordinator alone, else they kick each other.
    group.start("coordinator", "coordinator", "run",
                env={"NZD_MQTT_CLIENT_ID": f"nzd-demo-coordinator-{secrets.token_hex(3)}"})
    group.start("api", "api", "--host", options.api_host, "--port", str(options.api_port))

    async with httpx.AsyncClient(timeout=2.0) as http:
        async def healthy() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return (await http.get(f"{api_url}/healthz")).status_code == 200
            return False

        return await _wait_until(healthy, group, stop, what="the API", timeout_s=options.startup_timeout_s)


def _banner(options: DemoOptions, files: DemoFiles, api_url: str, mqtt_url: str, embedded: bool,
            group: ProcessGroup, start: datetime) -> None:
    interval = planning_interval_s(options.speed)
    typer.echo(f"nzd demo: {len(SITES)} firms of the district 'prato-demo', simulated time at "
               f"{options.speed:g}x from {start.strftime('%a %d %b %Y %H:%M')} "
               f"(a plan every {interval / 60:g} simulated min, {interval / options.speed:g} s)")
    typer.echo(f"  dashboard   {api_url}/")
    typer.echo(f"  operator    user 'operator'  password '{files.credentials['operator']}'")
    typer.echo(f"  site mgr    user 'tintoria'  password '{files.credentials['tintoria']}'")
    typer.echo(f"  broker      {mqtt_url}{' (embedded amqtt)' if embedded else ''}")
    store = options.influx_url and f"{options.influx_url} database {options.influx_database}"
    typer.echo(f"  store       {store or files.directory / 'nzd.sqlite'}")
    typer.echo(f"  logs        {files.directory} ({len(group.pids)} processes, pids in {group.pid_file})")
    typer.echo("Ctrl-C stops everything.", nl=True)


async def _seed(options: DemoOptions, files: DemoFiles, workdir: Path, start: datetime) -> None:
    from nzd.settings import ServiceSettings
    from nzd.store import open_store

    settings = ServiceSettings(influx_url=options.influx_url, influx_database=options.influx_database,
                               sqlite_path=workdir / "nzd.sqlite")
    store = open_store(settings)
    try:
        await store.open()
        await seed_history(store, simulator_file=files.simulator, district="prato-demo",
                           sites=[s.id for s in SITES], end_s=start.timestamp())
    except Exception as exc:
        raise DemoError(f"could not write the demo's history: {exc}") from exc
    finally:
        with contextlib.suppress(Exception):
            await store.close()


async def run_demo(options: DemoOptions) -> int:
    try:
        return await _run(options)
    except DemoError as exc:
        typer.echo(f"nzd demo: {exc}", err=True)
        return 1


async def _run(options: DemoOptions) -> int:
    api_url = f"http://{options.api_host}:{options.api_port}"
    check_port_free(options.api_port, options.api_host, what="dashboard", option="--port")
    mqtt_port: int | None
    if options.mqtt_url:
        parts = urlsplit(options.mqtt_url)
        mqtt_host, mqtt_port = parts.hostname or "127.0.0.1", parts.port or 1883
        check_reachable(mqtt_host, mqtt_port, what="MQTT broker (--mqtt)")
    else:
        mqtt_host = "127.0.0.1"
        mqtt_port = 1883 if port_is_free(1883) else None
    if options.influx_url:
        check_influx(options.influx_url)
    start = simulated_start(options.start, tz=_DISTRICT_TZ)

    # One pick for the devices and the embedded broker: no two of them, nor the dashboard, share a port.
    taken = {options.api_port} | ({mqtt_port} if mqtt_port else set())
    ports = free_ports(len(SITES) + (mqtt_port is None), avoid=taken)
    device_ports, mqtt_port = ports[:len(SITES)], mqtt_port or ports[-1]
    mqtt_url = options.mqtt_url or f"mqtt://{mqtt_host}:{mqtt_port}"
    workdir = options.directory or Path(tempfile.mkdtemp(prefix="nzd-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    files = write_demo_files(workdir, mqtt_host=mqtt_host, mqtt_port=mqtt_port, device_ports=device_ports,
                             speed=options.speed, start=start.isoformat(),
                             poll_interval_s=options.poll_interval_s)
    _write_users(files)
    typer.echo(f"writing a week of simulated history before {start:%Y-%m-%d %H:%M} ...", err=True)
    await _seed(options, files, workdir, start)
    clock = Clock.simulated(start_ms=int(start.timestamp() * 1000), speed=options.speed,
                            origin_ms=time.time_ns() // 1_000_000 + int(_HEAD_START_S * 1000))
    group = ProcessGroup(log_dir=workdir, env=_environment(options, files, workdir, mqtt_url, clock))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    broker: EmbeddedBroker | None = None
    try:
        if not options.mqtt_url:
            broker = EmbeddedBroker(host=mqtt_host, port=mqtt_port)
            await broker.start()
        if not await _start_all(options, files, group, stop, device_ports, api_url):
            return 0  # Ctrl-C during start-up
        _banner(options, files, api_url, mqtt_url, broker is not None, group, start)
        deadline = None if options.run_for_s is None else time.monotonic() + options.run_for_s
        while not stop.is_set():
            if (failure := _failure(group)) is not None:
                raise DemoError(failure)
            if deadline is not None and time.monotonic() > deadline:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
        return 0
    finally:
        typer.echo("stopping ...", err=True)
        pids = group.pids
        killed = await asyncio.to_thread(group.stop)
        if broker is not None:
            await broker.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if killed:
            typer.echo(f"killed after the grace period: {', '.join(killed)}", err=True)
        if left := leftovers(pids):
            typer.echo(f"still running after stop: pids {left}", err=True)
        else:
            typer.echo(f"stopped {len(pids)} processes; nothing left running", err=True)
