"""paho-mqtt driven by the asyncio loop instead of a thread of its own.

paho's socket callbacks register its socket with the event loop, which calls
``loop_read``/``loop_write`` when it is ready; a task reconnects with backoff
and runs ``loop_misc`` (keepalive) every second. Receiving, decoding, writing
and acknowledging thus share one thread, with no hand-over per message.
Reading can be paused (TCP back-pressure: the broker keeps the stream in the
session) and resumed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from coordinator.ingest.settings import IngestSettings
from nzd.settings import parse_mqtt_url

__all__ = ["LoopDriver", "connect_client", "make_client"]

log = logging.getLogger("nzd.ingest")

_READ_BURST = 256
"""Packets read per wake-up at most, so that writes and timers get their turn."""


_RECV_BYTES = 65_536


_MAX_MERGED_ACKS = 4096


def _is_puback(packet: Any) -> bool:
    return (packet["command"] & 0xF0) == mqtt.PUBACK and packet["pos"] == 0


class _BufferedClient(mqtt.Client):
    """paho reads a packet with several small ``recv`` calls (its type byte, each length byte, then
    the rest): one system call each. This client reads what the socket has, up to 64 KiB, and
    serves paho's small reads from that buffer; and it sends queued acknowledgements together."""

    _rbuf: bytes = b""
    _rpos: int = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(_RECV_BYTES)  # raises BlockingIOError when nothing is there
            if not data:
                return data  # the connection closed
            self._rbuf, self._rpos = data, 0
        end = self._rpos + bufsize
        chunk = self._rbuf[self._rpos:end]
        self._rpos = min(end, len(self._rbuf))
        return chunk

    def _packet_write(self) -> mqtt.MQTTErrorCode:
        # Acknowledgements queued back to back go out in one send, not one system call each.
        # Safe to merge: paho runs no callback when a PUBACK has been written.
        out = self._out_packet
        if len(out) > 1 and _is_puback(out[0]) and _is_puback(out[1]):
            acks: list[Any] = []
            while out and _is_puback(out[0]) and len(acks) < _MAX_MERGED_ACKS:
                acks.append(out.popleft())
            packet = b"".join(bytes(a["packet"][a["pos"]:]) for a in acks)
            merged = dict(acks[0])
            merged.update(packet=packet, pos=0, to_process=len(packet))
            out.appendleft(merged)  # type: ignore[arg-type]  # paho's _OutPacket, all keys kept
        return super()._packet_write()

    def buffered(self) -> bool:
        """Bytes read from the socket that paho has not consumed yet."""
        return self._rpos < len(self._rbuf)

    def drop_buffer(self) -> None:
        """A new connection starts with nothing of the old one."""
        self._rbuf, self._rpos = b"", 0


def make_client(settings: IngestSettings) -> mqtt.Client:
    """A client with manual acknowledgement and a persistent session under a fixed id."""
    s = settings
    url = parse_mqtt_url(s.mqtt_url)
    if s.ingest_mqtt_protocol == "5":
        client = _BufferedClient(callback_api_version=CallbackAPIVersion.VERSION2,
                                 client_id=s.ingest_client_id, protocol=MQTTProtocolVersion.MQTTv5,
                                 manual_ack=True)
    else:
        client = _BufferedClient(callback_api_version=CallbackAPIVersion.VERSION2,
                                 client_id=s.ingest_client_id, protocol=MQTTProtocolVersion.MQTTv311,
                                 clean_session=False, manual_ack=True)
    username = s.mqtt_username or url.username
    password = s.mqtt_password.get_secret_value() if s.mqtt_password else url.password
    if username:
        client.username_pw_set(username, password)
    if url.tls:
        client.tls_set(ca_certs=str(s.mqtt_ca_file) if s.mqtt_ca_file else None)
    client.connect_timeout = 10.0
    return client


def connect_client(client: mqtt.Client, *, settings: IngestSettings) -> None:
    """Connect, resuming the session (MQTT 5: receive maximum = the backlog bound)."""
    s = settings
    url = parse_mqtt_url(s.mqtt_url)
    if s.ingest_mqtt_protocol != "5":
        client.connect(url.host, url.port, keepalive=s.ingest_keepalive_s)
        return
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = s.ingest_max_backlog
    props.SessionExpiryInterval = s.ingest_session_expiry_s
    client.connect(url.host, url.port, keepalive=s.ingest_keepalive_s, clean_start=False, properties=props)


class LoopDriver:
    def __init__(self, client: mqtt.Client, *, connect: Callable[[mqtt.Client], None]) -> None:
        self.client = client
        self._connect = connect
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sock: Any = None
        self.paused = False
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_socket_register_write
        client.on_socket_unregister_write = self._on_socket_unregister_write

    def start(self) -> asyncio.Task[None]:
        """Connect and keep connected; cancel the returned task to stop reconnecting."""
        self._loop = asyncio.get_running_loop()
        return asyncio.create_task(self._keep_connected())

    def pause(self) -> None:
        if not self.paused and self.sock is not None and self._loop is not None:
            self._loop.remove_reader(self.sock)
        self.paused = True

    def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        if self.sock is not None and self._loop is not None:
            self._loop.add_reader(self.sock, self._read_ready, self.sock)
            if self._buffered():  # packets read before the pause: the socket will not say so
                self._loop.call_soon(self._read_ready, self.sock)

    async def disconnect(self) -> None:
        if self.sock is not None:
            self.client.disconnect()
            for _ in range(50):  # let the loop write the DISCONNECT and close the socket
                if self.sock is None:
                    break
                await asyncio.sleep(0.02)

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self.sock = sock
        if isinstance(client, _BufferedClient):
            client.drop_buffer()
        self.paused = False  # a new connection must at least read its CONNACK
        self._loop.add_reader(sock, self._read_ready, sock)

    def _read_ready(self, sock: Any) -> None:
        """Read every packet already buffered, not one per turn of the event loop (up to a bound)."""
        if self.paused or self.sock is not sock:  # a call scheduled before a pause or a reconnect
            return
        for _ in range(_READ_BURST):
            self.client.loop_read()
            if self.sock is not sock or self.paused:
                return
            if self._buffered():
                continue
            try:
                if isinstance(sock, ssl.SSLSocket):
                    if sock.pending() == 0:
                        return
                elif not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    return
            except OSError:  # nothing buffered (EAGAIN), or the connection broke: loop_read will see
                return
        if self._buffered() and self._loop is not None:  # the burst ended with packets in hand
            self._loop.call_soon(self._read_ready, sock)

    def _buffered(self) -> bool:
        return isinstance(self.client, _BufferedClient) and self.client.buffered()

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.remove_reader(sock)
        self._loop.remove_writer(sock)
        self.sock = None
        self.paused = False

    def _on_socket_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.add_writer(sock, client.loop_write)

    def _on_socket_unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.remove_writer(sock)

    async def _keep_connected(self) -> None:
        delay_s = 1.0
        while True:
            if self.sock is None:
                try:
                    self._connect(self.client)
                    delay_s = 1.0
                except OSError as exc:
                    log.warning("cannot connect to the broker, retrying in %.0f s: %s", delay_s, exc)
                    await asyncio.sleep(delay_s)
                    delay_s = min(delay_s * 2, 10.0)
                    continue
            self.client.loop_misc()
            await asyncio.sleep(1.0)
