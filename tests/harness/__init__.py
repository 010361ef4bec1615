"""Real servers for tests and benchmarks: Mosquitto, InfluxDB, Modbus.

Each starts on a free port with a temporary data directory and stops cleanly.
A missing binary raises :class:`MissingServer` with the command that installs it.
"""

from tests.harness.servers import (
    InfluxServer,
    MissingServer,
    MosquittoServer,
    free_port,
    free_ports,
    require_binary,
    wait_for_port,
)

__all__ = [
    "InfluxServer",
    "MissingServer",
    "MosquittoServer",
    "free_port",
    "free_ports",
    "require_binary",
    "wait_for_port",
]
