"""The district report as one self-contained HTML page (no script, nothing from the internet):
the same words and figures as the PDF, each target's path drawn as inline SVG."""

from __future__ import annotations

from html import escape
from typing import Any

from api.district_report import DistrictReport
from api.report_pdf import fmt, status_words

__all__ = ["render_report_html"]


def _pct(v: float | None) -> str:
    return "not published" if v is None else f"{100 * v:.1f} %"


def _svg(p: Any) -> str:
    """Path as a line, measured years as dots, on one scale."""
    path = [(v.year, v.value) for v in p.path if v.value is not None]
    measured = [(v.year, v.value) for v in p.measured if v.value is not None]
    points = path + measured
    years = [y for y, _ in points]
    values = [v for _, v in points]
    y0, y1 = min(years), max(max(years), min(years) + 1)
    v0, v1 = min(0.0, *values), max(values) * 1.1 or 1.0
    width, height = 420, 140

    def xy(y: float, v: float) -> str:
        x = 30 + (y - y0) / (y1 - y0) * (width - 40)
        return f"{x:.1f},{height - 20 - (v - v0) / (v1 - v0) * (height - 30):.1f}"

    line = " ".join(xy(y, v) for y, v in path)
    dots = "".join(f'<circle cx="{xy(y, v).split(",")[0]}" cy="{xy(y, v).split(",")[1]}" r="4" '
                   f'fill="#b5523b"><title>{y}: {v:.2f}</title></circle>' for y, v in measured)
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(p.target.label)}: path and measured years">'
            f'<polyline points="{line}" fill="none" stroke="#2f6f9f" stroke-width="2"/>{dots}'
            f'<text x="30" y="{height - 4}" font-size="10">{y0}</text>'
            f'<text x="{width - 40}" y="{height - 4}" font-size="10">{y1}</text></svg>')


def render_report_html(report: DistrictReport) -> str:
    t = report.totals
    kind = "yearly" if len(report.period) == 4 else "monthly"
    rows = [("Firms taking part", str(report.firms)), ("CO2 from the electricity drawn", fmt(t.co2_t, "t")),
            ("Share of consumption met by local solar power", _pct(t.renewable_share)),
            ("Self-sufficiency (consumption not drawn from the grid)", _pct(t.self_sufficiency)),
            ("Energy shared between the firms", fmt(t.shared_mwh, "MWh", 2)),
            ("Incentive earned on shared energy", fmt(t.incentive_eur, "EUR", 2)),
            ("Water drawn", fmt(t.water_intake_m3, "m3", 0)),
            ("Share of the water that was recycled", _pct(t.water_reuse_ratio)),
            ("Leaks found / fixed", f"{report.leaks_found} / {report.leaks_fixed}")]
    summary = "".join(f"<tr><th scope='row'>{escape(a)}</th><td>{escape(b)}</td></tr>" for a, b in rows)
    targets = []
    for p in report.targets:
        gap = "" if p.gap is None else f" (gap {p.gap:+.2f} {escape(p.target.unit)})"
        targets.append(
            f"<section class='target' data-metric='{p.target.metric.value}'><h3>{escape(p.target.label)}</h3>"
            f"<p>From {fmt(p.target.baseline_value, '', 2)} in {p.target.baseline_year} to "
            f"{fmt(p.target.target_value, '', 2)} {escape(p.target.unit)} by {p.target.target_year}. "
            f"In {p.year} the path expects {fmt(p.expected, '', 2)}; measured {fmt(p.actual, '', 2)}: "
            f"<strong>{status_words(p.status)}</strong>{gap}.</p>{_svg(p)}</section>")
    trend = "".join(f"<tr><td>{escape(r.label)}</td><td>{fmt(r.co2_t, '', 2)}</td>"
                    f"<td>{_pct(r.renewable_share)}</td><td>{fmt(r.water_intake_m3, '', 0)}</td></tr>"
                    for r in report.rows)
    inv = report.inventory
    inventory = "" if inv is None else (
        "<h2>Emission inventory</h2><table><tr><th>Sector</th><th>Energy carrier</th><th>Energy (MWh)</th>"
        "<th>CO2 (t)</th></tr>" + "".join(
            f"<tr><td>{escape(r.sector_label)}</td><td>{escape(r.carrier_label)}</td>"
            f"<td>{fmt(r.energy_mwh, '', 2)}</td><td>{fmt(r.co2_t, '', 2)}</td></tr>" for r in inv.rows)
        + f"<tr><th>Total</th><td></td><td>{fmt(inv.total_energy_mwh, '', 2)}</td>"
          f"<td>{fmt(inv.total_co2_t, '', 2)}</td></tr></table>"
          f"<p>Grid electricity at {inv.electricity_factor_t_co2_per_mwh} t CO2/MWh (location-based); local "
          "solar power without CO2.</p>")
    partial = "<p><em>The period is not over: figures are the period so far.</em></p>" if t.partial else ""
    title = f"{escape(report.name)}: {kind} report {report.period}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:.2rem .5rem;text-align:left}}
td{{text-align:right}}</style></head><body>
<h1>{escape(report.name)}: {kind} report {report.period}</h1>
<p>How the district is doing against the targets agreed between the municipality and the operator,
from the firms' meters. No figure here shows a single firm: a figure that fewer than three firms
make, or that one firm makes for more than 85 %, is marked "not published".</p>{partial}
<h2>In short</h2><table>{summary}</table>
<h2>Targets</h2>{''.join(targets) or '<p>No targets have been agreed yet.</p>'}
<h2>Trend</h2><table><tr><th>Period</th><th>CO2 (t)</th><th>Local solar share</th><th>Water (m3)</th></tr>
{trend}</table>{inventory}</body></html>
"""
