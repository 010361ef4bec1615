"""Parsing InfluxDB's series keys (SHOW SERIES), which latest_silent() reads."""

from __future__ import annotations

from nzd.store.influx import parse_series_key


def test_a_series_key_gives_its_measurement_and_tags() -> None:
    assert parse_series_key("electricity_meter,device=main-meter,district=prato-est,site=tintoria-rossi") == (
        "electricity_meter", {"device": "main-meter", "district": "prato-est", "site": "tintoria-rossi"})


def test_escaped_commas_equals_and_spaces_stay_in_names_and_values() -> None:
    assert parse_series_key(r"a\,b,dev\=x=v\,1\ 2,s=t=u") == ("a,b", {"dev=x": "v,1 2", "s": "t=u"})
