"""Retention and downsampling on InfluxDB 1.x, as ``nzd store init`` sets them up.

- ``raw`` (the default policy): every reading, kept ``raw_days``;
- ``downsampled_15m``: per device measurement, ``mean_*``, ``max_*``, ``min_*`` and
  ``last_*`` of every field per 15 minutes, kept ``downsampled_days``, filled by
  the continuous query ``nzd_downsample_15m`` (it recomputes the last 30 minutes
  every 15, so late readings are counted);
- the same policy also gets, per device, the first and the last reading of every 15 minutes at
  their own times (``bound_seq``, ``bound_<counter>``, ``bound_nzd_quality``), filled by the
  continuous queries ``nzd_bounds_first_15m`` and ``nzd_bounds_last_15m``
  (:mod:`nzd.store.rollup`): energy over long periods comes from them;
- ``nzd_events``: plans, setpoints, acknowledgements, alerts, KPIs, kept for good.

Running it again changes durations in place; it never drops data.
docs/storage.md gives the InfluxDB 2.x and 3.x equivalents.
"""

from __future__ import annotations

from dataclasses import dataclass

from nzd.messages import DeviceKind
from nzd.store.influx import EVENTS_RETENTION_POLICY, ROLLUP_POLICY
from nzd.store.influx_http import InfluxHttp
from nzd.store.lineprotocol import quote_ident
from nzd.store.rollup import BOUND_PREFIX, ROLLUP_STEP_S, all_kinds, bounds_select, counter_fields

__all__ = [
    "CONTINUOUS_QUERY",
    "DOWNSAMPLED_POLICY",
    "RAW_POLICY",
    "RetentionPlan",
    "apply_retention",
    "backfill_rollups",
    "bounds_rollup_selects",
    "downsample_select",
]

RAW_POLICY = "raw"
DOWNSAMPLED_POLICY = ROLLUP_POLICY
CONTINUOUS_QUERY = "nzd_downsample_15m"
BOUNDS_QUERIES = {"bottom": "nzd_bounds_first_15m", "top": "nzd_bounds_last_15m"}


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    database: str
    raw_days: int = 90
    downsampled_days: int = 10 * 366

    def __post_init__(self) -> None:
        if self.raw_days < 1:
            raise ValueError(f"raw_days must be at least 1, got {self.raw_days}")
        if self.downsampled_days < self.raw_days:
            raise ValueError("downsampled data must be kept at least as long as raw data")


def downsample_select(database: str, *, where: str = "") -> str:
    """The SELECT ... INTO of the continuous query (``where`` adds a time range for a backfill)."""
    db = quote_ident(database)
    sources = ", ".join(f"{db}.{quote_ident(RAW_POLICY)}.{quote_ident(k.value)}" for k in DeviceKind)
    clause = f" WHERE {where}" if where else ""
    into = f"{db}.{quote_ident(DOWNSAMPLED_POLICY)}.:MEASUREMENT"
    return (f"SELECT mean(*), max(*), min(*), last(*) INTO {into} "
            f"FROM {sources}{clause} GROUP BY time(15m), *")


def bounds_rollup_selects(database: str, *, where: str = "") -> dict[str, str]:
    """The two SELECT ... INTO of the counter rollups, by continuous query name."""
    into = f"{quote_ident(database)}.{quote_ident(DOWNSAMPLED_POLICY)}.:MEASUREMENT"
    sources = all_kinds(database, RAW_POLICY)
    return {name: bounds_select(selector=sel, sources=sources, fields=counter_fields(),
                                prefix_in="", prefix_out=BOUND_PREFIX, every_s=ROLLUP_STEP_S, into=into,
                                where=where)
            for sel, name in BOUNDS_QUERIES.items()}


async def apply_retention(http: InfluxHttp, plan: RetentionPlan) -> list[str]:
    """Create or update the policies and the continuous query; returns the statements run."""
    db = quote_ident(plan.database)
    await http.query(f"CREATE DATABASE {db}", database=False)
    res = await http.query(f"SHOW RETENTION POLICIES ON {db}", database=False)
    existing = {row[0] for s in res[0].get("series", []) for row in s.get("values", [])}
    wanted = [
        (RAW_POLICY, f"{plan.raw_days}d", True),
        (DOWNSAMPLED_POLICY, f"{plan.downsampled_days}d", False),
        (EVENTS_RETENTION_POLICY, "INF", False),
    ]
    statements: list[str] = []
    for name, duration, default in wanted:
        verb = "ALTER" if name in existing else "CREATE"
        stmt = f"{verb} RETENTION POLICY {quote_ident(name)} ON {db} DURATION {duration}"
        stmt += " REPLICATION 1" if verb == "CREATE" else ""
        stmt += " DEFAULT" if default else ""
        statements.append(stmt)
    cqs = await http.query("SHOW CONTINUOUS QUERIES", database=False)
    names = {row[0] for s in cqs[0].get("series", []) if s.get("name") == plan.database
             for row in s.get("values", [])}
    selects = {CONTINUOUS_QUERY: downsample_select(plan.database), **bounds_rollup_selects(plan.database)}
    for name, select in selects.items():
        if name in names:
            statements.append(f"DROP CONTINUOUS QUERY {quote_ident(name)} ON {db}")
        statements.append(f"CREATE CONTINUOUS QUERY {quote_ident(name)} ON {db} "
                          f"RESAMPLE EVERY 15m FOR 30m BEGIN {select} END")
    for stmt in statements:
        await http.query(stmt, database=False)
    return statements


BACKFILL_CHUNK_MS = 31 * 86_400_000
"""One SELECT ... INTO per month: over a year of many devices one query would hold it all in memory."""


async def backfill_rollups(http: InfluxHttp, database: str, *, start_ms: int, end_ms: int,
                           chunk_ms: int = BACKFILL_CHUNK_MS) -> int:
    """Run the continuous queries' SELECT ... INTO over ``[start_ms, end_ms)`` of raw data, a
    chunk at a time (on 15-minute edges, so no bucket is split): for data imported or stored
    before the queries existed. Rewrites the same points the queries would; returns the chunks run."""
    step_ms = ROLLUP_STEP_S * 1000
    lo = start_ms // step_ms * step_ms
    end = -(-end_ms // step_ms) * step_ms
    chunk = max(step_ms, chunk_ms // step_ms * step_ms)
    done = 0
    while lo < end:
        hi = min(end, lo + chunk)
        where = f"time >= {int(lo)}ms AND time < {int(hi)}ms"
        await http.query(downsample_select(database, where=where))
        for select in bounds_rollup_selects(database, where=where).values():
            await http.query(select)
        done += 1
        lo = hi
    return done
