"""Line protocol escaping: unit cases, and arbitrary values through the real influxd and back."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nzd.messages import DeviceKind
from nzd.store import Event, EventKind, InfluxStore, LineProtocolError, Reading, StoreRejected
from nzd.store.lineprotocol import check_name, line, quote_string
from tests.harness import InfluxServer

T0 = 1_767_225_600_000


def test_escapes_each_part_as_influxdb_parses_it() -> None:
    assert line("m a,b", {"t k": "v,=x"}, {"f=1": 1.5, "s": 'a"b\\c', "n": 3, "ok": True}, 5) == (
        r'm\ a\,b,t\ k=v\,\=x f\=1=1.5,s="a\"b\\c",n=3i,ok=true 5'
    )
    assert line("m", {"b": "2", "a": "1"}, {"v": 1e20}, 7) == "m,a=1,b=2 v=1e+20 7"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("", "non-empty"), ("a\nb", "line break"), ("a\rb", "line break"), ("a\\", "ends with a backslash"),
     ("a\\,b", "backslash before"), ("a\\ b", "backslash before"), ("a\\=b", "backslash before"),
     ("\ud800", "Unicode"), ("a\x00b", "NUL")],
)
def test_values_line_protocol_cannot_carry_are_refused(value: str, reason: str) -> None:
    with pytest.raises(LineProtocolError, match=reason):
        check_name(value, what="tag")


def test_non_finite_fields_and_empty_points_are_refused() -> None:
    with pytest.raises(LineProtocolError, match="finite"):
        line("m", {}, {"v": float("inf")}, 1)
    with pytest.raises(LineProtocolError, match="at least one field"):
        line("m", {}, {}, 1)


def test_influxql_strings_are_quoted() -> None:
    assert quote_string("it's a \\ test") == "'it\\'s a \\\\ test'"


def _storable(value: str) -> bool:
    try:
        check_name(value, what="tag")
        quote_string(value)
    except LineProtocolError:
        return False
    return True


tag_text = st.text(min_size=0, max_size=20)
finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(district=tag_text, site=tag_text, device=tag_text, value=finite, seq=st.integers(0, 2**63 - 1),
       key=st.text(max_size=30), note=st.text(max_size=60))
def test_arbitrary_tags_and_fields_come_back_unchanged_from_influxd(
    influxdb: InfluxServer, district: str, site: str, device: str, value: float, seq: int,
    key: str, note: str,
) -> None:
    async def roundtrip() -> None:
        store = InfluxStore(url=influxdb.url, database=f"test_lp_{uuid.uuid4().hex[:12]}", retry_total_s=2.0)
        await store.open()
        try:
            reading = Reading(district=district, site=site, device=device, kind=DeviceKind.BATTERY,
                              ts_ms=T0, seq=seq, values={"battery_soc_pct": value})
            event = Event(kind=EventKind.ALERT, district=district, site=site, ts_ms=T0, key=key,
                          document={"note": note, "value": value})
            if not all(_storable(v) for v in (district, site, device)):
                with pytest.raises(StoreRejected):
                    await store.write([reading])
                return
            await store.write([reading])
            assert await store.latest(district=district) == [reading]
            try:
                note.encode("utf-8")
                key.encode("utf-8")
            except UnicodeEncodeError:
                with pytest.raises(StoreRejected):
                    await store.write_events([event])
                return
            await store.write_events([event])
            assert await store.events(EventKind.ALERT, district=district, site=site) == [event]
        finally:
            await store.close()

    asyncio.run(roundtrip())
