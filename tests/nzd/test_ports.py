"""Free ports picked at once: never one twice, never one to avoid, and every one a server can listen on."""

from __future__ import annotations

import contextlib
import socket

import pytest

from nzd.ports import free_port, free_ports


def _listen_on_all(ports: list[int]) -> None:
    """What the demo and the tests do next: a server on every port, all at the same time."""
    with contextlib.ExitStack() as servers:
        for port in ports:
            server = servers.enter_context(socket.socket())
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))
            server.listen()


def test_two_hundred_ports_are_all_different_and_servers_can_listen_on_every_one() -> None:
    ports = free_ports(200)
    assert len(ports) == 200
    assert len(set(ports)) == 200
    assert all(1024 <= p <= 65535 for p in ports)
    _listen_on_all(ports)


def test_ports_to_avoid_are_never_picked_even_when_they_are_free_again() -> None:
    # Just released, so the kernel may hand any of them out again: only the avoid set keeps them out.
    promised = free_ports(200)
    ports = free_ports(200, avoid=promised)
    assert len(set(ports)) == 200
    assert set(ports).isdisjoint(promised)
    _listen_on_all(ports)


def test_one_port_avoids_the_ports_promised_to_others() -> None:
    promised = free_ports(50)
    assert all(free_port(avoid=promised) not in promised for _ in range(50))


def test_repeated_picks_of_a_few_ports_never_repeat_within_a_pick() -> None:
    for _ in range(300):  # as the demo does: eight devices and a broker, many times over
        ports = free_ports(9, avoid={8080})
        assert len(set(ports)) == 9 and 8080 not in ports


def test_no_ports_and_a_negative_count() -> None:
    assert free_ports(0) == []
    with pytest.raises(ValueError, match="count must be 0 or more"):
        free_ports(-1)
