"""The MQTT client id of a service: its account's username, so that no two clients share one.

The shipped broker config (``deploy/mosquitto/mosquitto.conf``) sets
``use_username_as_clientid``: the broker replaces whatever client id a client sends with its
username, so a client can only ever take over its own account's session. A service that is
told to use another id than its username would believe it has a session of its own while it
shares one with every other client of its account (two ingest workers on one account would
close each other's connection all day): it refuses to start instead.
"""

from __future__ import annotations

__all__ = ["bound_client_id"]


def bound_client_id(*, configured: str, username: str | None, fallback: str, setting: str) -> str:
    """``configured`` or, when empty, the username (or ``fallback`` on an anonymous broker).

    Raises ``ValueError`` when an authenticated service is given a client id that is not its
    username.
    """
    if not username:
        return configured or fallback
    if configured in ("", username):
        return username
    raise ValueError(
        f"{setting}={configured!r} differs from the MQTT username {username!r}: the broker binds "
        f"each session to its account (use_username_as_clientid), so clients sharing an account "
        f"take over each other's session. Give each worker its own account (e.g. nzd-ingest-2) "
        f"and leave {setting} unset or equal to the username.")
