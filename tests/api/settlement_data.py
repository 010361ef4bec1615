"""A month with hand-computed settlement figures, written to the real store for the API tests.

Month: the local month 250 days before now (no other test writes there). On the 10th,
10:00-14:00 local, Logistica (400 kWp car-park PV, 200-600 kW class) feeds in 30 kWh per
hour, Rossi draws 20 and Lanificio 10: 30 kWh shared each hour, 120 kWh in all.
TIP at the constant Pz = 110: min(110, 70 + 70) + 4 (central region) = 114 EUR/MWh, so
the premium is 120 x 0.114 = 13.68 EUR and the valorisation 120 x 0.011 = 1.32 EUR:
15.00 EUR. Logistica's plant shared all it fed in: 45 % of the premium (6.156 EUR) is
above the 55 % rule and goes to social purposes (no member is not a business). The rest,
7.524 + 1.32 = 8.844 EUR, is split 50/40/10: Logistica 4.422 as producer, Rossi 2/3 and
Lanificio 1/3 of 3.5376 as consumers, 0.8844 to the fund.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from nzd.messages import DeviceKind
from nzd.store import Event, EventKind, Reading
from tests.api.conftest import DISTRICT, ApiServer, write

TZ = ZoneInfo("Europe/Rome")
EXPECTED = {"tintoria-rossi": 2.36, "lanificio-bianchi": 1.18, "logistica-prato": 4.42}
FUND_EUR, SOCIAL_EUR, INCENTIVE_EUR = 0.88, 6.16, 15.00


def settlement_month(days_back: int = 250) -> str:
    then = datetime.fromtimestamp(time.time() - days_back * 86_400, TZ)
    return f"{then.year:04d}-{then.month:02d}"


def window_start_ms(month: str) -> int:
    """The 10th of the month, 10:00 local."""
    year, mon = (int(x) for x in month.split("-"))
    return int(datetime(year, mon, 10, 10, tzinfo=TZ).timestamp() * 1000)


def write_settlement_month(server: ApiServer, days_back: int = 250) -> str:
    month = settlement_month(days_back)
    start_ms = window_start_ms(month)
    readings = []
    for k in range(17):  # every 15 minutes, 10:00..14:00
        ts = start_ms + k * 900_000
        for site, imp_kwh, exp_kwh in (("tintoria-rossi", 20.0, 0.0), ("lanificio-bianchi", 10.0, 0.0),
                                       ("logistica-prato", 0.0, 30.0)):
            counters = {"energy_import_wh": 1e6 + imp_kwh * 250.0 * k,
                        "energy_export_wh": 2e6 + exp_kwh * 250.0 * k}
            readings.append(Reading(DISTRICT, site, "main-meter", DeviceKind.ELECTRICITY_METER, ts, k,
                                    counters))
    write(server, readings)
    return month


SAVINGS = {"days": 1, "coordinated_net_cost_eur": round(5.60 - 0.59, 2),
           "fair_baseline_net_cost_eur": round(8.40 - 0.66, 2),
           "do_nothing_net_cost_eur": round(11.20 - 0.71, 2),
           "savings_vs_fair_baseline_eur": 2.73, "savings_vs_do_nothing_eur": 5.48}
"""Rossi's savings from :func:`write_baseline_day`, by hand: the pot within the 55 % rule is
0.55 x 30 x 0.114 + 30 x 0.011 = 2.211 EUR, consumers get 40 % of it, Rossi by its share of the
energy drawn (20/30, 30/40, 40/50 of 0.8844 EUR, to the cent); import 0.28 EUR/kWh at 10:00."""


def write_baseline_day(server: ApiServer, month: str) -> None:
    """One stored day, as the coordinator writes it at local midnight, with one busy hour at 10:00:
    Logistica feeds in 30 kWh; Rossi draws 20 (coordinated), 30 (alone) or 40 (doing nothing);
    Lanificio 10."""
    hour = window_start_ms(month)
    day_start = hour - 10 * 3_600_000
    sites = ["tintoria-rossi", "lanificio-bianchi", "logistica-prato", "depuratore"]

    def flows(rossi: float) -> dict[str, object]:
        return {"cost_eur": 0.0, "shared_kwh": 30.0, "import_kwh": [[rossi], [10.0], [0.0], [0.0]],
                "export_kwh": [[0.0], [0.0], [30.0], [0.0]]}

    doc = {"day_start_ms": day_start, "site_ids": sites, "hour_start_ms": [hour],
           "coordinated": flows(20.0), "fair": flows(30.0), "do_nothing": flows(40.0)}
    write(server, events=[Event(EventKind.BASELINE, DISTRICT, "*", day_start, str(day_start), doc)])
