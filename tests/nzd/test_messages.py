"""The contract: every valid message round-trips; anything else raises ContractError only."""

from __future__ import annotations

import json
import random

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nzd import (
    Ack,
    AckResult,
    Alert,
    AlertSeverity,
    ContractError,
    DeviceKind,
    DeviceState,
    GatewayState,
    GatewayStatus,
    Quality,
    Setpoint,
    SetpointSource,
    Telemetry,
    decode,
    encode,
)

ident = st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True)
qname = st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True)
ts = st.integers(min_value=946_684_800_000, max_value=7_258_118_400_000)
finite = st.floats(allow_nan=False, allow_infinity=False)

telemetry = st.builds(
    Telemetry,
    ts=ts,
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    device=ident,
    kind=st.sampled_from(DeviceKind),
    values=st.dictionaries(qname, finite, min_size=1, max_size=8),
    quality=st.dictionaries(qname, st.sampled_from(Quality), max_size=3),
    replayed=st.booleans(),
)
status = st.builds(
    GatewayStatus,
    gateway=ident,
    state=st.sampled_from(GatewayState),
    ts=ts,
    software_version=st.text(max_size=20),
    config_hash=st.text(max_size=20),
    devices=st.dictionaries(
        ident,
        st.builds(DeviceState, online=st.booleans(), last_read_ts=st.none() | ts,
                  errors=st.integers(min_value=0, max_value=10**9), detail=st.none() | st.text()),
        max_size=4,
    ),
    buffered=st.integers(min_value=0, max_value=10**9),
    dropped=st.integers(min_value=0, max_value=10**9),
    reason=st.none() | st.text(max_size=30),
)


@st.composite
def setpoints(draw: st.DrawFn) -> Setpoint:
    # valid_until (up to a day later) must stay within the contract's last epoch ms, 7_258_118_400_000
    start = draw(st.integers(min_value=946_684_800_000, max_value=7_258_118_400_000 - 86_400_000))
    return Setpoint(
        id=draw(st.integers(min_value=0, max_value=2**63 - 1)),
        asset=draw(ident),
        quantity=draw(qname),
        value=draw(finite),
        valid_from=start,
        valid_until=start + draw(st.integers(min_value=1, max_value=86_400_000)),
        issued_at=draw(ts),
        source=draw(st.sampled_from(SetpointSource)),
        plan_id=draw(st.none() | st.text(max_size=20)),
    )


acks = st.builds(
    Ack,
    setpoint_id=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    asset=ident,
    result=st.sampled_from(AckResult),
    ts=ts,
    value=st.none() | finite,
    reason=st.none() | st.text(max_size=40),
)
alerts = st.builds(
    Alert, id=ident, site=ident, kind=qname, severity=st.sampled_from(AlertSeverity), ts=ts,
    message=st.text(max_size=40), device=st.none() | ident, value=st.none() | finite,
    threshold=st.none() | finite, active=st.booleans(),
)
messages = telemetry | status | setpoints() | acks | alerts


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_every_valid_message_round_trips(message) -> None:
    assert decode(encode(message), type(message)) == message


MODELS = (Telemetry, GatewayStatus, Setpoint, Ack, Alert)


@settings(max_examples=10_000, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(MODELS))
def test_random_bytes_raise_only_contract_error(payload: bytes, model) -> None:
    try:
        decode(payload, model)
    except ContractError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
near_valid = st.fixed_dictionaries(
    {"ts": json_values | ts, "seq": json_values, "device": json_values | ident,
     "kind": json_values | st.sampled_from([k.value for k in DeviceKind]),
     "values": json_values | st.dictionaries(qname, json_values)},
)


@settings(max_examples=300, deadline=None)
@given(json_values | near_valid, st.sampled_from(MODELS))
def test_random_json_raises_only_contract_error(document, model) -> None:
    try:
        decode(json.dumps(document), model)
    except ContractError:
        pass


def _random_json(rng: random.Random, depth: int = 0) -> object:
    """A random JSON value, biased towards the shapes of real messages."""
    roll = rng.random()
    if depth < 3 and roll < 0.3:
        keys = ["ts", "seq", "device", "kind", "values", "quality", "replayed", "id", "asset",
                "value", "valid_from", "valid_until", "issued_at", "gateway", "state", "result", "x"]
        return {rng.choice(keys) if rng.random() < 0.8 else str(rng.random()): _random_json(rng, depth + 1)
                for _ in range(rng.randint(0, 8))}
    if depth < 3 and roll < 0.4:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return rng.choice([
        None, True, False, rng.randint(-(2**70), 2**70), rng.randint(0, 2**45), rng.random() * 1e12,
        -0.0, "", "main-meter", "électricité", "battery", "applied", "online", "NaN", "1e999",
        1_764_000_000_000, rng.uniform(-1e308, 1e308),
    ])


def test_ten_thousand_random_json_documents_raise_only_contract_error() -> None:
    rng = random.Random(20261125)
    for _ in range(10_000):
        document = _random_json(rng)
        for model in MODELS:
            try:
                decode(json.dumps(document), model)
            except ContractError:
                pass


def _reading(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "ts": 1_764_000_000_000, "seq": 7, "device": "main-meter", "kind": "electricity_meter",
        "values": {"active_power_w": 1234.5},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ts": 1_764_000_000}, "ts"),  # seconds, not milliseconds
        ({"seq": -1}, "seq"),
        ({"seq": "7"}, "seq"),
        ({"device": "Main Meter"}, "device"),
        ({"kind": "toaster"}, "kind"),
        ({"values": {"active_power_w": "high"}}, "values.active_power_w"),
        ({"values": {}}, ""),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_telemetry_names_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ContractError) as info:
        decode(orjson.dumps(_reading(**overrides)), Telemetry)
    assert info.value.field == field
    assert info.value.reason


def test_nan_is_refused_in_values() -> None:
    with pytest.raises(ContractError) as info:
        decode(b'{"ts":1764000000000,"seq":1,"device":"m","kind":"battery","values":{"x":NaN}}',
               Telemetry)
    assert info.value.field == ""


def test_setpoint_window_must_be_positive() -> None:
    doc = {"id": 1, "asset": "b", "quantity": "battery_power_setpoint_w", "value": 5.0,
           "valid_from": 1_764_000_000_000, "valid_until": 1_764_000_000_000,
           "issued_at": 1_764_000_000_000}
    with pytest.raises(ContractError, match="valid_until"):
        decode(orjson.dumps(doc), Setpoint)


def test_a_confirmation_carries_inclusive_seq_ranges_and_refuses_reversed_ones() -> None:
    from nzd import Confirm

    c = Confirm(device="m1", ts=1_767_225_600_000, ranges=[[0, 5], [7, 7]])
    assert encode(c) == b'{"device":"m1","ts":1767225600000,"ranges":[[0,5],[7,7]]}'
    assert decode(encode(c), Confirm) == c
    for bad in (b'{"device":"m1","ts":1767225600000,"ranges":[[5,1]]}',
                b'{"device":"m1","ts":1767225600000,"ranges":[]}',
                b'{"device":"m1","ts":1767225600000,"ranges":[[1,2,3]]}',
                b'{"device":"m1","ts":1767225600000,"ranges":[["1",2]]}'):
        with pytest.raises(ContractError):
            decode(bad, Confirm)
