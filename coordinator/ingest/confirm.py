"""Confirmations to the gateways: which readings the store has, per device, at most once a second.

A gateway keeps every reading on its disk until it is confirmed here, and sends
it again after a reconnect or a timeout; so a message the broker loses (a restart
without persistence, a shared subscription not restored) costs a resend, never a
reading. Confirmations themselves may be lost or repeated: a lost one costs a
resend, and the store's writes are idempotent.

One message per device and flush on ``nzd/v1/{district}/{site}/confirm/{device}``
(QoS 1, not retained): the seqs stored since the last flush, as inclusive ranges
(one range for a gap-free stream). ``seq`` is per gateway, the topic per device,
so ranges are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nzd.clock import district_clock
from nzd.messages import MAX_CONFIRM_RANGES, Confirm, encode
from nzd.store import Reading
from nzd.topics import confirm_topic

__all__ = ["CONFIRM_INTERVAL_S", "Confirmer", "seq_ranges"]

CONFIRM_INTERVAL_S = 1.0
"""How often pending confirmations are published (so at most once a second per device)."""


def seq_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """``[0, 1, 2, 5, 7, 8]`` -> ``[[0, 2], [5, 5], [7, 8]]`` (duplicates merged)."""
    out: list[list[int]] = []
    for s in sorted(set(seqs)):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


class Confirmer:
    """Collects stored readings; :meth:`flush` publishes one confirmation per device."""

    def __init__(self, *, publish: Callable[[str, bytes], None]) -> None:
        self._publish = publish
        self._pending: dict[tuple[str, str, str], set[int]] = {}
        self.published = 0
        """Confirmation messages published."""

    def add(self, readings: Iterable[Reading]) -> None:
        """Readings the store now has (or that were dead-lettered: they will never be stored)."""
        for r in readings:
            self._pending.setdefault((r.district, r.site, r.device), set()).add(r.seq)

    @property
    def pending(self) -> int:
        return sum(len(s) for s in self._pending.values())

    def flush(self) -> int:
        """Publish what is pending; returns the number of messages."""
        pending, self._pending = self._pending, {}
        ts = district_clock().now_ms()
        sent = 0
        for (district, site, device), seqs in pending.items():
            topic = confirm_topic(district=district, site=site, device=device)
            ranges = seq_ranges(seqs)
            for i in range(0, len(ranges), MAX_CONFIRM_RANGES):
                self._publish(topic, encode(Confirm(device=device, ts=ts,
                                                    ranges=ranges[i:i + MAX_CONFIRM_RANGES])))
                sent += 1
        self.published += sent
        return sent
