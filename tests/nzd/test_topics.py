from __future__ import annotations

import pytest

from nzd import (
    ContractError,
    TopicKind,
    ack_topic,
    confirm_topic,
    parse_topic,
    setpoint_topic,
    site_filter,
    status_topic,
    telemetry_topic,
)


def test_build_and_parse_each_kind() -> None:
    cases = [
        (telemetry_topic(district="prato", site="rossi", device="main-meter"),
         TopicKind.TELEMETRY, "main-meter"),
        (status_topic(district="prato", site="rossi", gateway="gw1"), TopicKind.STATUS, "gw1"),
        (setpoint_topic(district="prato", site="rossi", asset="bat"), TopicKind.SETPOINT, "bat"),
        (ack_topic(district="prato", site="rossi", asset="bat"), TopicKind.ACK, "bat"),
        (confirm_topic(district="prato", site="rossi", device="main-meter"), TopicKind.CONFIRM, "main-meter"),
    ]
    for text, kind, name in cases:
        topic = parse_topic(text)
        assert (topic.kind, topic.district, topic.site, topic.name) == (kind, "prato", "rossi", name)
        assert str(topic) == text
    assert cases[0][0] == "nzd/v1/prato/rossi/main-meter/telemetry"
    assert cases[2][0] == "nzd/v1/prato/rossi/setpoint/bat"
    assert cases[4][0] == "nzd/v1/prato/rossi/confirm/main-meter"


@pytest.mark.parametrize(
    "bad",
    ["", "nzd/v1/prato/rossi/m", "nzd/v2/prato/rossi/m/telemetry", "nzd/v1/Prato/rossi/m/telemetry",
     "nzd/v1/prato/rossi/m/unknown", "nzd/v1/prato/ro ssi/m/telemetry",
     "nzd/v1/prato/rossi/+/telemetry", "nzd/v1/prato/rossi/setpoint/telemetry"],
)
def test_bad_topics_raise_contract_error(bad: str) -> None:
    with pytest.raises(ContractError):
        parse_topic(bad)


def test_reserved_and_bad_identifiers_refused_when_building() -> None:
    with pytest.raises(ContractError, match="reserved"):
        telemetry_topic(district="prato", site="rossi", device="setpoint")
    with pytest.raises(ContractError, match="reserved"):
        telemetry_topic(district="prato", site="rossi", device="confirm")
    with pytest.raises(ContractError, match="district"):
        telemetry_topic(district="Prato", site="rossi", device="m")


def test_filters() -> None:
    assert site_filter(TopicKind.TELEMETRY) == "nzd/v1/+/+/+/telemetry"
    assert site_filter(TopicKind.SETPOINT, district="prato", site="rossi") == \
        "nzd/v1/prato/rossi/setpoint/+"
