"""The live stream over the real Mosquitto: fan-out to many clients, scope, and slow clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt
import httpx

from nzd.messages import DeviceKind, Telemetry, encode
from nzd.topics import telemetry_topic
from tests.api.conftest import DISTRICT, SITE_A, SITE_B, ApiServer


async def sse(response: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    event = "message"
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            yield event, json.loads(line[6:])


def reading(seq: int, *, power_w: float = 1000.0) -> Telemetry:
    return Telemetry(ts=int(time.time() * 1000), seq=seq, device="main-meter",
                     kind=DeviceKind.ELECTRICITY_METER, values={"active_power_w": power_w})


async def publish(server: ApiServer, site: str, messages: list[Telemetry]) -> None:
    async with aiomqtt.Client(server.mosquitto.host, server.mosquitto.port) as client:
        topic = telemetry_topic(district=DISTRICT, site=site, device="main-meter")
        for m in messages:
            await client.publish(topic, encode(m), qos=1)


async def _first_reading(response: httpx.Response, hello: asyncio.Event, seen: list[dict[str, Any]]) -> None:
    async for event, data in sse(response):
        if event == "hello":
            hello.set()
        elif event == "reading":
            seen.append(data)
            return


async def test_100_clients_all_receive_a_published_reading_in_their_scope(api_server: ApiServer) -> None:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=api_server.url, limits=limits, timeout=60) as http:
        clients = []
        async with contextlib.AsyncExitStack() as stack:
            for i in range(100):
                token = (api_server.operator if i % 2 else api_server.manager_a).token
                response = await stack.enter_async_context(
                    http.stream("GET", "/api/v1/live", params={"access_token": token}))
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                hello, seen = asyncio.Event(), []
                clients.append((i, hello, seen, asyncio.create_task(_first_reading(response, hello, seen))))
            await asyncio.gather(*(c[1].wait() for c in clients))
            # Site B first: the site manager of A must skip it, the operator must not.
            await publish(api_server, SITE_B, [reading(1, power_w=111.0)])
            await publish(api_server, SITE_A, [reading(2, power_w=222.0)])
            await asyncio.gather(*(c[3] for c in clients))
    for i, _, seen, _ in clients:
        expected = (SITE_B, 111.0) if i % 2 else (SITE_A, 222.0)
        assert (seen[0]["site"], seen[0]["values"]["active_power_w"]) == expected


async def test_the_public_stream_carries_district_totals_only(api_server: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=api_server.url, timeout=60) as http, \
            http.stream("GET", "/api/v1/live") as response:
        events = sse(response)
        assert (await anext(events))[0] == "hello"
        await publish(api_server, SITE_A, [reading(3, power_w=5000.0)])
        await asyncio.sleep(1.1)  # totals go out at most once a second
        await publish(api_server, SITE_A, [reading(4, power_w=6000.0)])
        event, data = await anext(events)
        assert event == "district"
        assert data["grid_w"] > 0 and "site" not in data and "device" not in data


def _slow_client(server: ApiServer) -> socket.socket:
    """An SSE client with a tiny receive buffer that never reads after the request."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    host, port = server.url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.sendall(f"GET /api/v1/live?access_token={server.operator.token} HTTP/1.1\r\n"
                 f"Host: {host}\r\n\r\n".encode())
    return sock


def _dropped(server: ApiServer) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    line = next(ln for ln in text.splitlines() if ln.startswith("nzd_api_live_dropped_total "))
    return float(line.split()[1])


async def test_a_client_that_stops_reading_is_dropped_and_the_others_get_everything(
        api_server: ApiServer) -> None:
    dropped_before = await asyncio.to_thread(_dropped, api_server)
    # The server is shared with other tests whose clients may still be closing.
    clients_before = (await asyncio.to_thread(httpx.get, f"{api_server.url}/healthz")).json()["live_clients"]
    slow = await asyncio.to_thread(_slow_client, api_server)
    async with httpx.AsyncClient(base_url=api_server.url, timeout=60) as http, \
            contextlib.AsyncExitStack() as stack:
        readers = []
        for _ in range(5):
            response = await stack.enter_async_context(
                http.stream("GET", "/api/v1/live", params={"access_token": api_server.operator.token}))
            events = sse(response)
            assert (await anext(events))[0] == "hello"
            readers.append(events)
        seq = 1000
        chunks = 0
        # Publish in chunks; every fast client gets each chunk whole while the slow one is stuck,
        # until the server gives up on the slow one.
        while await asyncio.to_thread(_dropped, api_server) == dropped_before:
            assert chunks < 200, "the slow client was never dropped"
            batch = [reading(seq + k, power_w=float(seq + k)) for k in range(50)]
            await publish(api_server, SITE_A, batch)
            for events in readers:
                got = []
                while len(got) < len(batch):
                    event, data = await anext(events)
                    if event == "reading" and data["site"] == SITE_A and data["seq"] >= 1000:
                        got.append(data["seq"])
                assert got == [m.seq for m in batch]
            seq += 50
            chunks += 1
        assert chunks >= 2  # it was really stuck for a while, not dropped at once
    # The server notices the readers' disconnects asynchronously: wait for it.
    for _ in range(100):
        health = (await asyncio.to_thread(httpx.get, f"{api_server.url}/healthz")).json()
        if health["live_clients"] <= clients_before:
            break
        await asyncio.sleep(0.1)
    assert health["live_clients"] <= clients_before
    slow.close()
