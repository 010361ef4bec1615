"""``nzd ingest`` refuses bad settings with a clear message instead of starting."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from nzd.cli import app


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"NZD_INGEST_BATCH_SIZE": "0"}, "ingest_batch_size"),
     ({"NZD_MQTT_URL": "http://broker:1883"}, "scheme must be mqtt"),
     ({"NZD_INGEST_MQTT_PROTOCOL": "4"}, "ingest_mqtt_protocol")],
)
def test_bad_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["ingest", "--metrics-port", "0"])
    assert result.exit_code == 2
    assert "invalid settings" in result.output
    assert expected in result.output
