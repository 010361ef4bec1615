"""Hourly zonal prices: the CSV format, `nzd prices import`, and reading them back from the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nzd.cli.app import app
from nzd.prices import hourly_prices, read_price_csv
from nzd.settings import ServiceSettings
from nzd.store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "firmware_configs" / "examples" / "district.yaml"
H0 = 1_780_264_800_000  # 2026-06-01 00:00 Europe/Rome


def test_the_csv_is_checked_line_by_line(tmp_path: Path) -> None:
    good = tmp_path / "pz.csv"
    good.write_text("time,eur_per_mwh\n2026-06-01T00:00:00+02:00,101.5\n1780268400000,99\n")
    assert read_price_csv(good) == [(H0, 101.5), (H0 + 3_600_000, 99.0)]
    head = "time,eur_per_mwh\n"
    for body, message in ((head + "2026-06-01T00:00:00,1\n", "pz.csv:2: time: needs a UTC offset"),
                          (head + "2026-06-01T00:30:00+02:00,1\n", "pz.csv:2: time: must be the start"),
                          (head + "2026-06-01T00:00:00+02:00,abc\n", "pz.csv:2: eur_per_mwh: 'abc'"),
                          (head + "2026-06-01T00:00:00+02:00,1e9\n", "pz.csv:2: eur_per_mwh: must be"),
                          ("time,price\n", "pz.csv:1: missing column(s) eur_per_mwh")):
        good.write_text(body)
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_price_csv(good)


def test_nzd_prices_import_stores_hours_and_a_second_import_replaces_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.sqlite"
    monkeypatch.setenv("NZD_SQLITE_PATH", str(db))
    monkeypatch.delenv("NZD_INFLUX_URL", raising=False)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("time,eur_per_mwh\n" + "".join(f"{H0 + h * 3_600_000},{100 + h}\n" for h in range(24)))
    second.write_text(f"time,eur_per_mwh\n{H0 + 3_600_000},55.5\n")
    for path, stored in ((first, 24), (second, 1)):
        result = CliRunner().invoke(app, ["prices", "import", str(path), "-d", str(EXAMPLE)])
        assert result.exit_code == 0, result.output
        assert f"{stored} hourly prices stored for district 'prato-est'" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("time,eur_per_mwh\nyesterday,1\n")
    result = CliRunner().invoke(app, ["prices", "import", str(bad), "-d", str(EXAMPLE)])
    assert result.exit_code == 2 and "bad.csv:2: time" in result.output

    async def read() -> np.ndarray:
        store = open_store(ServiceSettings())
        await store.open()
        try:
            return await hourly_prices(store, district="prato-est",
                                       hour_start_ms=H0 + np.arange(25, dtype=np.int64) * 3_600_000)
        finally:
            await store.close()

    prices = asyncio.run(read())
    assert prices[0] == 100.0 and prices[1] == 55.5 and prices[23] == 123.0 and np.isnan(prices[24])
