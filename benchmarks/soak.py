"""The hardening soak: ``/latest`` and ``/district/flows`` while one gateway invents names.

Starts, on loopback, a Mosquitto with the shipped ACL and security settings, an influxd,
``nzd ingest`` (logged in as ``nzd-ingest-1``, default per-site limits) and the API. Two sites
report every 200 ms; the API is polled (``/api/v1/sites/tintoria-rossi/latest`` and
``/api/v1/district/flows``, as the operator) for a baseline, then while a third site's
gateway publishes ``--names`` readings, each with a new device and a new quantity, until the
flood's dead letters have reached the API. Prints one JSON line: p99 of each route before
(the baseline, same run) and during the flood, influxd's peak resident memory, the dead
letters and alerts the operator sees.

    python benchmarks/soak.py [--names 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from coordinator.ingest.settings import IngestSettings  # noqa: E402
from tests.api.conftest import DISTRICT_FILE, _users_file  # noqa: E402
from tests.coordinator.ingest.support import IngestProcess, wait_until  # noqa: E402
from tests.harness import InfluxServer, MosquittoServer, free_port  # noqa: E402
from tests.security.conftest import ACCOUNTS, make_broker_files, secured_broker_args  # noqa: E402
from tests.security.soak import ATTACKER, Soak, p99  # noqa: E402

GOAL_P99_MS = 200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=20_000)
    args = parser.parse_args()
    folder = make_broker_files()
    workdir = Path(tempfile.mkdtemp(prefix="nzd-bench-soak-"))
    broker = MosquittoServer(**secured_broker_args(folder)).start()
    influx = InfluxServer().start()
    ingest = IngestProcess(mqtt_port=broker.port, influx_url=influx.url, database="soak",
                           client_id="nzd-ingest-1", group="ingest", log_path=workdir / "ingest.log")
    ingest.env.update({"NZD_MQTT_USERNAME": "nzd-ingest-1", "NZD_MQTT_PASSWORD": ACCOUNTS["nzd-ingest-1"]})
    api = None
    try:
        ingest.start()
        operator, _, _, _ = _users_file(workdir / "users.yaml")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        # The API in a process of its own, as in production: the measurement shares no GIL with it.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NZD_INFLUX_URL": influx.url,
               "NZD_INFLUX_DATABASE": "soak", "NZD_MQTT_URL": broker.url, "NZD_MQTT_USERNAME": "nzd-api",
               "NZD_MQTT_PASSWORD": ACCOUNTS["nzd-api"], "NZD_DISTRICT_FILE": str(DISTRICT_FILE),
               "NZD_USERS_FILE": str(workdir / "users.yaml"), "NZD_JWT_SECRET": "b" * 40,
               "NZD_ACCESS_LOG": "false", "NZD_API_PORT": str(port), "NZD_LOG_LEVEL": "WARNING"}
        with (workdir / "api.log").open("wb") as log:
            api = subprocess.Popen([sys.executable, "-m", "nzd", "api"], env=env, cwd=ROOT, stdout=log,
                                   stderr=subprocess.STDOUT)

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=2).json().get("mqtt") is True
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout_s=60, what="the API to subscribe")
        assert influx.proc is not None
        soak = Soak(broker_port=broker.port, api_url=url, token=operator.token, influx_pid=influx.proc.pid,
                    names=args.names)
        limit = IngestSettings().ingest_site_max_devices
        soak.run(before_s=5.0, after_s=5.0, until_deadletters=max(args.names - limit, 0))
        letters = soak.deadletters()
        alerts = [a["alert"] for a in soak.alerts() if a["alert"]["site"] == ATTACKER]  # type: ignore[index]
        lat = soak.latencies_ms
        result = {
            "benchmark": "soak",
            "names": args.names,
            "flood_publish_s": round(soak.flood_s, 2),
            "p99_ms": {phase: {route: round(p99(v), 1) for route, v in routes.items()}
                       for phase, routes in lat.items()},
            "requests": {phase: {route: len(v) for route, v in routes.items()}
                         for phase, routes in lat.items()},
            "errors": len(soak.errors),
            "influxd_rss_max_mib": round(soak.influx_rss_max / 2**20, 1),
            "deadletters_at_api": letters["total"],
            "ingest_limited": ingest.metric("nzd_ingest_limited_total"),
            "alerts": sorted({a["kind"] for a in alerts}),  # type: ignore[index]
            "goal_p99_ms": GOAL_P99_MS,
            "goal_influxd_rss_mib": 1024,
        }
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=20)
        ingest.stop()
        broker.close()
        influx.close()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
