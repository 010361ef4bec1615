"""The behaviour every TelemetryStore backend shares, run on the real influxd and on SQLite."""

from __future__ import annotations

import pytest

from nzd.accounting import energy_per_interval, interval_edges
from nzd.messages import DeviceKind
from nzd.store import (
    Aggregation,
    Event,
    EventKind,
    Reading,
    StoreRejected,
    TelemetryStore,
)

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a multiple of 15 minutes
Q_MS = 900_000
METER = DeviceKind.ELECTRICITY_METER


def meter(device: str, ts_ms: int, seq: int, site: str = "s1", **values: float) -> Reading:
    return Reading(district="d1", site=site, device=device, kind=METER, ts_ms=ts_ms, seq=seq,
                   values=dict(values))


async def test_ping_answers(store: TelemetryStore) -> None:
    assert await store.ping()


async def test_latest_gives_the_last_value_of_every_quantity_per_device(store: TelemetryStore) -> None:
    await store.write([
        meter("m1", T0, 1, active_power_w=100.0, energy_import_wh=10.0),
        meter("m1", T0 + 1000, 2, active_power_w=150.5),
        meter("m2", T0 + 500, 7, site="s2", active_power_w=-20.0),
        Reading(district="d1", site="s2", device="bat", kind=DeviceKind.BATTERY, ts_ms=T0 + 2000,
                seq=3, values={"battery_soc_pct": 55.0}),
        Reading(district="other", site="s1", device="m1", kind=METER, ts_ms=T0 + 9000, seq=99,
                values={"active_power_w": 1.0}),
    ])
    latest = await store.latest(district="d1")
    assert [(r.site, r.device, r.kind, r.ts_ms, r.seq) for r in latest] == [
        ("s1", "m1", METER, T0 + 1000, 2),
        ("s2", "bat", DeviceKind.BATTERY, T0 + 2000, 3),
        ("s2", "m2", METER, T0 + 500, 7),
    ]
    assert latest[0].values == {"active_power_w": 150.5, "energy_import_wh": 10.0}
    assert latest[2].values == {"active_power_w": -20.0}
    only = await store.latest(district="d1", site="s2", device="m2")
    assert [(r.device, r.values) for r in only] == [("m2", {"active_power_w": -20.0})]
    assert await store.latest(district="nowhere") == []


async def test_history_raw_values_in_the_half_open_range(store: TelemetryStore) -> None:
    await store.write([meter("m1", T0 + i * 60_000, i, active_power_w=float(i)) for i in range(10)])
    await store.write([meter("m1", T0 + 2 * 60_000, 2, voltage_v=230.0)])
    series = await store.history(district="d1", quantities=["active_power_w", "voltage_v"],
                                 start_ms=T0 + 60_000, end_ms=T0 + 5 * 60_000)
    assert len(series) == 1
    s = series[0]
    assert (s.site, s.device, s.kind) == ("s1", "m1", METER)
    assert s.times_ms == [T0 + i * 60_000 for i in range(1, 5)]
    assert s.values["active_power_w"] == [1.0, 2.0, 3.0, 4.0]
    assert s.values["voltage_v"] == [None, 230.0, None, None]


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [(Aggregation.MEAN, [2.0, 25.0]), (Aggregation.MAX, [4.0, 40.0]),
     (Aggregation.MIN, [0.0, 10.0]), (Aggregation.LAST, [0.0, 10.0])],
)
async def test_history_aggregates_per_interval(
    store: TelemetryStore, aggregation: Aggregation, expected: list[float]
) -> None:
    # First quarter: 4, 2, 0 (mean 2); second: 40, 10 (mean 25); the last value comes last in time.
    points = [(0, 4.0), (300_000, 2.0), (600_000, 0.0), (Q_MS, 40.0), (Q_MS + 60_000, 10.0)]
    await store.write([meter("m1", T0 + dt, i, active_power_w=v) for i, (dt, v) in enumerate(points)])
    series = await store.history(district="d1", site="s1", device="m1", kind=METER,
                                 quantities=["active_power_w"], start_ms=T0, end_ms=T0 + 2 * Q_MS,
                                 every_s=900, aggregation=aggregation)
    assert len(series) == 1
    assert series[0].times_ms == [T0, T0 + Q_MS]
    assert series[0].values["active_power_w"] == pytest.approx(expected)


async def test_history_filters_by_kind_site_and_device(store: TelemetryStore) -> None:
    await store.write([
        meter("m1", T0, 1, active_power_w=1.0),
        meter("m2", T0, 1, active_power_w=2.0),
        meter("m3", T0, 1, site="s2", active_power_w=3.0),
        Reading(district="d1", site="s1", device="pv", kind=DeviceKind.PV_INVERTER, ts_ms=T0, seq=1,
                values={"active_power_w": -4.0}),
    ])

    async def devices(**filters: object) -> list[str]:
        found = await store.history(district="d1", quantities=["active_power_w"], start_ms=T0,
                                    end_ms=T0 + 1, **filters)  # type: ignore[arg-type]
        return [s.device for s in found]

    assert await devices() == ["m1", "m2", "pv", "m3"]
    assert await devices(kind=DeviceKind.PV_INVERTER) == ["pv"]
    assert await devices(site="s2") == ["m3"]
    assert await devices(device="m2") == ["m2"]
    assert await devices(site="s2", device="m1") == []


async def test_writing_a_reading_twice_stores_it_once(store: TelemetryStore) -> None:
    batch = [meter("m1", T0 + i, i, active_power_w=float(i)) for i in range(5)]
    await store.write(batch)
    await store.write(batch[2:])
    series = await store.history(district="d1", quantities=["active_power_w"], start_ms=T0,
                                 end_ms=T0 + 10, every_s=60, aggregation=Aggregation.MEAN)
    assert series[0].values["active_power_w"] == [2.0]
    raw = await store.history(district="d1", quantities=["active_power_w"], start_ms=T0, end_ms=T0 + 10)
    assert raw[0].times_ms == [T0 + i for i in range(5)]


async def test_energy_per_interval_from_stored_counters(store: TelemetryStore) -> None:
    # A reading every 5 minutes; the meter is replaced after 10 minutes (reset to 3 Wh),
    # and then nothing arrives for 30 minutes.
    counter = [(0, 1000.0), (5, 1005.0), (10, 1010.0), (15, 3.0), (20, 8.0), (30, 18.0), (60, 48.0)]
    await store.write([meter("m1", T0 + m * 60_000, i, energy_import_wh=v)
                       for i, (m, v) in enumerate(counter)])
    end = T0 + 4 * Q_MS
    (s,) = await store.history(district="d1", quantities=["energy_import_wh"], start_ms=T0,
                               end_ms=end + 1)
    edges = interval_edges(start_ms=T0, end_ms=end, step_ms=Q_MS)
    wh = energy_per_interval(s.times_ms, s.values["energy_import_wh"], edges)
    # 5+5+3 | 5+5+5 | 15 | 15 (the 30 Wh across the gap shared by overlap)
    assert wh.tolist() == [13.0, 15.0, 15.0, 15.0]


async def test_events_newest_first_with_filters(store: TelemetryStore) -> None:
    events = [
        Event(kind=EventKind.SETPOINT, district="d1", site="s1", ts_ms=T0, key="sp-1",
              document={"value": 1.5, "asset": "bat"}),
        Event(kind=EventKind.SETPOINT, district="d1", site="s1", ts_ms=T0, key="sp-2",
              document={"value": -2, "asset": "bat2"}),
        Event(kind=EventKind.SETPOINT, district="d1", site="s2", ts_ms=T0 + 1000, key="sp-3",
              document={"nested": {"list": [1, "a"]}}),
        Event(kind=EventKind.PLAN, district="d1", site="*", ts_ms=T0 + 2000, key="plan-1",
              document={"steps": 96}),
    ]
    await store.write_events(events)
    await store.write_events(events[:1])  # written again: still one event
    setpoints = await store.events(EventKind.SETPOINT, district="d1")
    assert setpoints[0].key == "sp-3"
    assert sorted(e.key for e in setpoints) == ["sp-1", "sp-2", "sp-3"]
    by_key = {e.key: e for e in setpoints}
    assert by_key["sp-1"] == events[0]
    assert by_key["sp-3"].document == {"nested": {"list": [1, "a"]}}
    assert [e.key for e in await store.events(EventKind.SETPOINT, district="d1", site="s2")] == ["sp-3"]
    assert len(await store.events(EventKind.SETPOINT, district="d1", limit=1)) == 1
    early = await store.events(EventKind.SETPOINT, district="d1", start_ms=T0, end_ms=T0 + 1000)
    assert sorted(e.key for e in early) == ["sp-1", "sp-2"]
    assert [e.key for e in await store.events(EventKind.PLAN, district="d1")] == ["plan-1"]
    assert await store.events(EventKind.ALERT, district="d1") == []


async def test_non_finite_values_are_rejected(store: TelemetryStore) -> None:
    with pytest.raises(StoreRejected, match="finite"):
        await store.write([meter("m1", T0, 1, active_power_w=float("nan"))])
    assert await store.latest(district="d1") == []


@pytest.mark.parametrize("every_s", [0, -900])
async def test_a_bucket_of_no_time_is_refused_by_history_and_counter_bounds(
        store: TelemetryStore, every_s: int) -> None:
    await store.write([meter("m1", T0, 1, active_power_w=1.0, energy_import_wh=10.0)])
    with pytest.raises(StoreRejected, match=f"every_s must be positive, got {every_s}"):
        await store.history(district="d1", quantities=["active_power_w"], start_ms=T0, end_ms=T0 + Q_MS,
                            every_s=every_s)
    with pytest.raises(StoreRejected, match=f"every_s must be positive, got {every_s}"):
        await store.counter_bounds(district="d1", quantities=["energy_import_wh"], start_ms=T0,
                                   end_ms=T0 + Q_MS, every_s=every_s)


async def test_quality_flags_and_replay_of_the_newest_reading_are_kept(store: TelemetryStore) -> None:
    await store.write([meter("m1", T0, 1, active_power_w=100.0, energy_import_wh=10.0)])
    # Out of the gateway's buffer after an outage; the counter could not be read that time.
    await store.write([Reading(district="d1", site="s1", device="m1", kind=METER, ts_ms=T0 + 1000, seq=2,
                               values={"active_power_w": 150.0}, replayed=True,
                               quality={"energy_import_wh": "comm_error", "active_power_w": "out_of_range"})])
    (latest,) = await store.latest(district="d1")
    assert latest.values == {"active_power_w": 150.0, "energy_import_wh": 10.0}  # the last value known
    assert latest.quality == {"energy_import_wh": "comm_error", "active_power_w": "out_of_range"}
    assert latest.replayed and latest.seq == 2
    await store.write([meter("m1", T0 + 2000, 3, active_power_w=120.0)])  # live and good again
    (latest,) = await store.latest(district="d1")
    assert (latest.quality, latest.replayed, latest.values["active_power_w"]) == ({}, False, 120.0)
    series = await store.history(district="d1", quantities=["active_power_w"], start_ms=T0, end_ms=T0 + 3000)
    assert series[0].values["active_power_w"] == [100.0, 150.0, 120.0]


@pytest.mark.parametrize("name", ["seq", "nzd_quality", "nzd_replayed"])
async def test_reserved_field_names_are_refused(store: TelemetryStore, name: str) -> None:
    with pytest.raises(StoreRejected, match="reserved"):
        await store.write([Reading(district="d1", site="s1", device="m1", kind=METER, ts_ms=T0, seq=1,
                                   values={name: 1.0})])


async def test_latest_since_leaves_out_silent_devices_and_latest_silent_gives_them(
        store: TelemetryStore) -> None:
    await store.write([
        meter("old", T0, 1, active_power_w=5.0, energy_import_wh=50.0),
        meter("old", T0 + 1000, 2, active_power_w=6.0),
        meter("m1", T0, 1, active_power_w=100.0, energy_import_wh=10.0),
        meter("m1", T0 + 3_600_000, 2, active_power_w=150.0),
        meter("m2", T0 + 3_600_000, 7, site="s2", active_power_w=-20.0),
    ])
    since = T0 + 60_000
    recent = await store.latest(district="d1", since_ms=since)
    assert [(r.site, r.device, r.seq) for r in recent] == [("s1", "m1", 2), ("s2", "m2", 7)]
    # A value last sent before the lookback is left out, like the devices silent since.
    assert recent[0].values == {"active_power_w": 150.0}
    assert await store.latest(district="d1", site="s2", since_ms=T0 + 3_600_001) == []
    silent = await store.latest_silent(district="d1", since_ms=since)
    assert [(r.site, r.device, r.ts_ms, r.seq, r.values) for r in silent] == [
        ("s1", "old", T0 + 1000, 2, {"active_power_w": 6.0, "energy_import_wh": 50.0})]
    assert await store.latest_silent(district="d1", site="s2", since_ms=since) == []
    assert await store.latest_silent(district="nowhere", since_ms=since) == []
