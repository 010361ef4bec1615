"""Files only their owner may read, whatever the umask: stores, buffers and gateway state.

SQLite gives a database's ``-wal``, ``-shm`` and ``-journal`` files the database file's own
permissions, so creating the database 0600 before SQLite opens it covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE_MODE", "private_file"]

PRIVATE_MODE = 0o600


def private_file(path: Path) -> Path:
    """Create ``path`` 0600 if it is missing; tighten it (and SQLite's companions) if it exists."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # the umask may have taken bits away, never added; and old files
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.chmod(PRIVATE_MODE)
    return path
