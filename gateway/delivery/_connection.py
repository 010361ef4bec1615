"""An aiomqtt client built from the gateway's :class:`~nzd.config.BrokerConfig`."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiomqtt

from nzd.config import BrokerConfig
from nzd.errors import ConfigError

__all__ = ["broker_password", "make_client"]


def broker_password(broker: BrokerConfig) -> str | None:
    """The password from the config or, preferably, from ``password_file`` (first line)."""
    if broker.password_file is not None:
        try:
            text = Path(broker.password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([f"broker.password_file: cannot read {broker.password_file}: "
                               f"{exc.strerror}"]) from None
        lines = text.splitlines()
        return lines[0].strip() if lines else ""
    if broker.password is not None:
        return broker.password.get_secret_value()
    return None


def _tls(broker: BrokerConfig) -> tuple[aiomqtt.TLSParameters | None, bool | None]:
    if broker.tls is None:
        return None, None
    tls = broker.tls
    params = aiomqtt.TLSParameters(
        ca_certs=str(tls.ca_file) if tls.ca_file else None,
        certfile=str(tls.cert_file) if tls.cert_file else None,
        keyfile=str(tls.key_file) if tls.key_file else None,
        cert_reqs=ssl.CERT_REQUIRED,
        tls_version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return params, tls.insecure


def make_client(broker: BrokerConfig, *, identifier: str, will: aiomqtt.Will | None,
                clean_session: bool, max_inflight: int = 256, timeout_s: float = 10.0) -> aiomqtt.Client:
    """A client for one connection attempt; a new one is made for every reconnect.

    A fresh client per connection means paho never resends its own stale
    in-flight messages: the buffer decides what is sent again.
    """
    tls_params, tls_insecure = _tls(broker)
    client = aiomqtt.Client(
        hostname=broker.host,
        port=broker.port,
        username=broker.username,
        password=broker_password(broker),
        identifier=identifier,
        will=will,
        clean_session=clean_session,
        keepalive=broker.keepalive_s,
        timeout=timeout_s,
        max_inflight_messages=max_inflight,
        tls_params=tls_params,
        tls_insecure=tls_insecure,
    )
    # A full in-flight window is the normal state while replaying, not a warning.
    client.pending_calls_threshold = max_inflight + 64
    return client
