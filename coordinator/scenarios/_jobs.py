"""Scenarios submitted through the API: jobs as SCENARIO events in the store, run by a worker.

What each viewer may see of a result is decided by the API (api/scenario_view.py).

Each state change is a new event under the job's key (newest first wins): ``queued`` (with the
scenario), ``running``, then ``done`` (with the result) or ``failed`` (with the reason). A job
submitted through the API sizes the registry's district with the synthetic weather year and
standard load profiles: it never names a file on the server.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coordinator.scenarios._lp import SizingError
from coordinator.scenarios._run import run_scenario
from coordinator.scenarios._spec import ScenarioSpec
from nzd.clock import district_clock
from nzd.store import Event, EventKind, StoreRejected, TelemetryStore

__all__ = [
    "JobError",
    "latest_jobs",
    "run_pending",
    "submit_job",
    "validate_submission",
    "worker_loop",
]

log = logging.getLogger(__name__)
KIND = EventKind.SCENARIO


class JobError(ValueError):
    """A submission the API refuses (422)."""


def validate_submission(document: dict[str, Any], *, district_file: Path) -> ScenarioSpec:
    """The scenario as the worker will run it: the API's registry, no server files."""
    doc = {k: v for k, v in document.items() if k != "district"}
    if doc.get("weather", {}).get("source", "synthetic") != "synthetic":
        raise JobError("scenarios submitted through the API use the synthetic weather year")
    if doc.get("loads", {}).get("measured_csv") is not None:
        raise JobError("scenarios submitted through the API use standard load profiles")
    try:
        return ScenarioSpec.model_validate({**doc, "district": str(district_file)})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise JobError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


async def submit_job(store: TelemetryStore, *, district: str, spec: ScenarioSpec, by: str) -> str:
    job_id = uuid.uuid4().hex[:12]
    document = spec.model_dump(mode="json", exclude={"district"})
    await store.write_events(
        [
            Event(
                kind=KIND,
                district=district,
                site="*",
                ts_ms=district_clock().now_ms(),
                key=job_id,
                document={"state": "queued", "by": by, "scenario": document},
            )
        ]
    )
    return job_id


async def latest_jobs(store: TelemetryStore, *, district: str, limit: int = 500) -> dict[str, dict[str, Any]]:
    """Per job id its latest state, with the submission time and the scenario added from earlier events."""
    events = await store.events(KIND, district=district, limit=limit)
    jobs: dict[str, dict[str, Any]] = {}
    for e in events:  # newest first
        job = jobs.setdefault(e.key, {"id": e.key, **e.document, "updated_ms": e.ts_ms})
        if e.document.get("state") == "queued":
            job.setdefault("scenario", e.document.get("scenario"))
            job["submitted_ms"] = e.ts_ms
            job.setdefault("by", e.document.get("by"))
    return jobs


async def _set(store: TelemetryStore, district: str, job_id: str, document: dict[str, Any]) -> None:
    await store.write_events(
        [
            Event(
                kind=KIND,
                district=district,
                site="*",
                ts_ms=district_clock().now_ms(),
                key=job_id,
                document=document,
            )
        ]
    )


async def run_pending(store: TelemetryStore, *, district: str, district_file: Path) -> int:
    """Run every queued job once; returns how many ran. A failing job is marked failed, never raised."""
    jobs = await latest_jobs(store, district=district)
    ran = 0
    for job_id, job in sorted(jobs.items(), key=lambda kv: kv[1].get("submitted_ms", 0)):
        if job.get("state") != "queued":
            continue
        await _set(store, district, job_id, {"state": "running"})
        try:
            spec = validate_submission(job.get("scenario") or {}, district_file=district_file)
            result = await asyncio.to_thread(run_scenario, spec)
        except (JobError, SizingError, ValueError) as exc:
            log.warning("scenario job %s failed: %s", job_id, exc)
            await _set(store, district, job_id, {"state": "failed", "error": str(exc)})
        except Exception as exc:  # a bug must not leave the job running forever nor stop the worker
            log.exception("scenario job %s failed", job_id)
            await _set(
                store, district, job_id, {"state": "failed", "error": f"internal error: {type(exc).__name__}"}
            )
        else:
            try:
                await _set(store, district, job_id, {"state": "done", "result": result})
            except StoreRejected as exc:
                log.warning("scenario job %s: the store refused its result: %s", job_id, exc)
                await _set(store, district, job_id, {"state": "failed", "error": f"result not stored: {exc}"})
        ran += 1
    return ran


async def worker_loop(
    store: TelemetryStore,
    *,
    district: str,
    district_file: Path,
    poll_s: float = 2.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Poll the store for queued scenarios until ``stop`` is set; a store outage is logged and retried."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await run_pending(store, district=district, district_file=district_file)
        except Exception as exc:  # the store may be down: keep the worker alive
            log.warning("scenario worker: %s", exc)
        try:
            await asyncio.wait_for(stop.wait(), timeout=poll_s)
        except TimeoutError:
            pass
