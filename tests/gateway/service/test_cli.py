"""``nzd gateway run`` refuses a bad config with file, line and field, and exit code 2."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nzd.cli.app import app


def test_a_config_typo_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("gateway: gw\ndistrict: d\nsite: s\ndevices:\n  - name: m\n    profil: x\n")
    result = CliRunner().invoke(app, ["gateway", "run", str(config)])
    assert result.exit_code == 2
    assert f"{config}:6: devices[0].profil: unknown field" in result.output


def test_an_unknown_profile_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text(
        "gateway: gw\ndistrict: d\nsite: s\n"
        f"buffer: {{path: {tmp_path / 'queue.sqlite'}}}\n"
        "devices:\n  - {name: m, profile: no_such_meter, transport: {type: tcp, host: 127.0.0.1}}\n")
    result = CliRunner().invoke(app, ["gateway", "run", str(config)])
    assert result.exit_code == 2
    assert "no such profile" in result.output
    assert not (tmp_path / "queue.sqlite").exists()
