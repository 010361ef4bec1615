"""What was published and not yet confirmed: when to send it again, what to delete.

Readings leave in seq order in chunks (one fetch from the queue each), so the
publisher tracks chunks, not readings: memory stays small however long ingest is
away. When a chunk's time is up, whatever of its range is still queued (not
confirmed) is sent again, but only once some confirmation has arrived since it
was sent: ingest is alive, so what it did not confirm was lost on the way. While
ingest (or its store) is down nothing is repeated in vain; the broker keeps the
first copies in ingest's session. Each attempt waits twice as long as the one
before.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Confirmations", "SentChunk", "SentChunks"]

#: Attempts wait at most this many times the base timeout.
MAX_BACKOFF = 8


@dataclass(slots=True)
class SentChunk:
    first: int
    last: int
    due_s: float
    """Monotonic time at which what is left of it is sent again."""
    sent_s: float
    attempt: int = 1


class SentChunks:
    def __init__(self, *, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._chunks: deque[SentChunk] = deque()

    def clear(self) -> None:
        """A new connection replays everything queued anyway."""
        self._chunks.clear()

    def sent(self, first: int, last: int, *, attempt: int = 1) -> None:
        now = time.monotonic()
        wait_s = self.timeout_s * min(2 ** (attempt - 1), MAX_BACKOFF)
        self._chunks.append(SentChunk(first, last, now + wait_s, now, attempt))

    def due(self, *, confirmed_s: float) -> SentChunk | None:
        """The earliest chunk whose time is up and that was sent before the last confirmation
        (at ``confirmed_s``), removed from the list: the caller resends it."""
        now = time.monotonic()
        best: SentChunk | None = None
        for c in self._chunks:
            if c.due_s <= now and c.sent_s < confirmed_s and (best is None or c.due_s < best.due_s):
                best = c
        if best is not None:
            self._chunks.remove(best)
        return best

    def next_due_s(self, *, confirmed_s: float) -> float | None:
        """When the next chunk falls due, among those a confirmation has come after."""
        return min((c.due_s for c in self._chunks if c.sent_s < confirmed_s), default=None)

    def __len__(self) -> int:
        return len(self._chunks)


class Confirmations:
    """Ranges ingest confirmed, waiting to be deleted in one transaction (or for the disk to allow it)."""

    def __init__(self) -> None:
        self.pending: list[tuple[str | None, int, int]] = []

    def add(self, device: str | None, ranges: Sequence[Sequence[int]], *, upto: int) -> None:
        """Record ``ranges`` of ``device``, never beyond seq ``upto`` (the highest this process sent)."""
        for first, last in ranges:
            last = min(last, upto)
            if first <= last:
                self.pending.append((device, first, last))

    def covers(self, device: str, seq: int) -> bool:
        """Confirmed but not deleted yet (the disk refused the delete): not to be sent again."""
        return any(first <= seq <= last and d in (None, device) for d, first, last in self.pending)

    def take(self) -> list[tuple[str | None, int, int]]:
        out, self.pending = self.pending, []
        return out

    def put_back(self, ranges: list[tuple[str | None, int, int]]) -> None:
        self.pending = ranges + self.pending
