"""An external forecast from a CSV file: ``time,site,load_kw,pv_kw`` (either value may be empty).

``time`` is ISO 8601 with an offset or epoch milliseconds, the start of the step.
Rows for unknown sites or times outside the horizon are errors, not silently dropped.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np

from coordinator.forecast._forecast import override
from coordinator.forecast._types import Forecast
from coordinator.model import DistrictModel

__all__ = ["ExternalForecastError", "apply_external_file"]


class ExternalForecastError(ValueError):
    """The file names its line and field."""


def _time_ms(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError("time needs a UTC offset")
    return int(stamp.timestamp() * 1000)


def apply_external_file(path: str | Path, model: DistrictModel, forecast: Forecast) -> Forecast:
    path = Path(path)
    steps = forecast.steps
    step_ms = model.step_minutes * 60_000
    load = np.full((model.n_sites, steps), np.nan)
    pv = np.full((model.n_sites, steps), np.nan)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"time", "site"} - set(reader.fieldnames or [])
        if missing:
            raise ExternalForecastError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            field = "time"
            try:
                offset = _time_ms(row["time"]) - forecast.start_ms
                if offset % step_ms or not 0 <= offset // step_ms < steps:
                    raise ValueError("not a step of the planning horizon")
                t = offset // step_ms
                field = "site"
                s = model.site_index(row["site"].strip())
                for field, target in (("load_kw", load), ("pv_kw", pv)):
                    text = (row.get(field) or "").strip()
                    if text:
                        value = float(text)
                        if not np.isfinite(value) or value < 0:
                            raise ValueError("must be a finite number >= 0")
                        target[s, t] = value
            except (ValueError, KeyError) as exc:
                raise ExternalForecastError(f"{path}:{line}: {field}: {exc}") from None
    return override(forecast, load_kw=load, pv_kw=pv, source=f"file:{path.name}")
