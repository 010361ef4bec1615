"""What the gateway service tests share: a Modbus server in a thread, configs, a subscriber."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from nzd.messages import Ack, GatewayStatus, Telemetry, decode
from tests.harness import free_port, wait_for_port

# A battery inverter as the tests need it: SOC, power and a writable power setpoint
# (i32, 1 W per bit, holding registers). Written for the tests, not a real device.
BATTERY_PROFILE = {
    "manufacturer": "nzd tests",
    "model": "test battery",
    "document": {"title": "nzd test battery register map", "version": "1"},
    "kind": "battery",
    "addressing": {"datasheet": "protocol"},
    "defaults": {"table": "holding"},
    "points": [
        {"quantity": "battery_soc_pct", "address": 100, "type": "u16", "scale": 0.1},
        {"quantity": "battery_power_w", "address": 102, "type": "i32"},
        {"quantity": "battery_power_setpoint_w", "address": 110, "type": "i32",
         "write": {"min": -500000, "max": 500000}},
    ],
}
SETPOINT_ADDRESS = 110


class ModbusThread:
    """A pymodbus TCP server (unit 1, zeroed tables) on its own thread and event loop."""

    def __init__(self, *, port: int | None = None) -> None:
        """``port``: serve again where a stopped server was (a device coming back)."""
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> ModbusThread:
        from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
        from pymodbus.server import ModbusTcpServer

        def block() -> Any:
            return ModbusSequentialDataBlock(1, [0] * 2000)

        async def serve() -> None:
            device = ModbusDeviceContext(di=block(), co=block(), hr=block(), ir=block())
            context = ModbusServerContext(devices={1: device}, single=False)
            self._server = ModbusTcpServer(context, address=("127.0.0.1", self.port))
            await self._server.serve_forever()

        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        wait_for_port(self.port)
        return self

    def read_i32(self, address: int) -> int:
        """The register pair as an independent Modbus master sees it."""
        from pymodbus.client import ModbusTcpClient

        client = ModbusTcpClient("127.0.0.1", port=self.port, timeout=3)
        try:
            client.connect()
            regs = client.read_holding_registers(address, count=2, device_id=1).registers
        finally:
            client.close()
        raw = (regs[0] << 16) | regs[1]
        return raw - (1 << 32) if raw & 0x8000_0000 else raw

    def close(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def write_gateway_config(tmp_path: Path, *, broker_port: int, modbus_port: int, meters: int = 0,
                         battery: bool = False, extra_broker: dict[str, Any] | None = None,
                         replay_per_s: float = 500.0, ramp_per_s: float | None = None,
                         site: str = "tintoria", confirm: bool = False,
                         confirm_timeout_s: float = 30.0, buffer_path: Path | None = None,
                         max_bytes: int | None = None) -> Path:
    """A gateway config; ``confirm`` False (the tests that run no ingest) deletes at the PUBACK."""
    devices: list[dict[str, Any]] = [
        {"name": f"meter-{i:02d}", "profile": "eastron_sdm630",
         "transport": {"type": "tcp", "host": "127.0.0.1", "port": modbus_port},
         "poll_interval_s": 1, "timeout_s": 1}
        for i in range(meters)
    ]
    assets: list[dict[str, Any]] = []
    if battery:
        profile = tmp_path / "test_battery.yaml"
        profile.write_text(yaml.safe_dump(BATTERY_PROFILE))
        devices.append({"name": "battery", "profile": str(profile),
                        "transport": {"type": "tcp", "host": "127.0.0.1", "port": modbus_port},
                        "poll_interval_s": 1, "timeout_s": 1})
        asset: dict[str, Any] = {"name": "battery", "device": "battery",
                                 "point": "battery_power_setpoint_w",
                                 "min_value": -50000, "max_value": 50000,
                                 "fallback": {"value": 0, "description": "battery idle"}}
        if ramp_per_s is not None:
            asset["max_ramp_per_s"] = ramp_per_s
        assets.append(asset)
    config = {
        "gateway": "gw-1", "district": "prato", "site": site,
        "broker": {"host": "127.0.0.1", "port": broker_port, "keepalive_s": 5, **(extra_broker or {})},
        "buffer": {"path": str(buffer_path or tmp_path / "buffer.sqlite"), "replay_per_s": replay_per_s,
                   "confirm": confirm, "confirm_timeout_s": confirm_timeout_s,
                   **({"max_bytes": max_bytes} if max_bytes is not None else {})},
        "devices": devices,
        "assets": assets,
    }
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Subscriber:
    """A paho subscriber with a persistent session: it misses nothing across broker restarts."""

    def __init__(self, *, port: int, topics: list[str], client_id: str = "test-subscriber",
                 username: str | None = None, password: str | None = None,
                 tls: dict[str, str] | None = None) -> None:
        """``tls``: ``ca_file``, ``cert_file``, ``key_file`` for a TLS listener."""
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.suback: list[int] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls is not None:
            import ssl

            self.client.tls_set(ca_certs=tls["ca_file"], certfile=tls.get("cert_file"),
                                keyfile=tls.get("key_file"), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)  # type: ignore[arg-type]  # seconds, float works
        self.topics = topics

        def on_connect(client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
            if not rc.is_failure:
                client.subscribe([(t, 1) for t in topics])

        def on_subscribe(_c: Any, _u: Any, _mid: Any, codes: Any, _p: Any) -> None:
            self.suback.extend(int(getattr(c, "value", c)) for c in codes)
            self.connected.set()

        def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
            with self.lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise TimeoutError("subscriber did not connect")

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self.lock:
            return list(self.messages)

    def telemetry(self) -> list[Telemetry]:
        return [decode(p, Telemetry) for t, p, _ in self.snapshot() if t.endswith("/telemetry")]

    def statuses(self) -> list[GatewayStatus]:
        return [decode(p, GatewayStatus) for t, p, _ in self.snapshot() if t.endswith("/status")]

    def acks(self) -> list[Ack]:
        return [decode(p, Ack) for t, p, _ in self.snapshot() if "/ack/" in t]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``predicate``; the timeout only bounds a hung test, it is not an assertion on speed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for: {what}")


async def until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Async :func:`wait_until`, for tests whose event loop runs the gateway."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for: {what}")


def publish(port: int, topic: str, payload: bytes, *, username: str | None = None,
            password: str | None = None) -> None:
    """Publish one QoS 1 message and wait for the broker's PUBACK."""
    import paho.mqtt.publish as single

    auth = {"username": username, "password": password} if username else None
    single.single(topic, payload, qos=1, hostname="127.0.0.1", port=port, auth=auth,  # type: ignore[arg-type]
                  protocol=mqtt.MQTTv311)
