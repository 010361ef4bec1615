"""The district report as PDF (reportlab): targets with their path, the CO2 trend, the rest in plain
words and small tables, for an officer who is not an engineer."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from api.district_report import DistrictReport
from api.pdf_format import fmt, pct

__all__ = ["fmt", "pct", "render_report_pdf", "status_words"]


def status_words(status: str | None) -> str:
    return {"ahead": "ahead of the path", "on_track": "on track", "behind": "behind the path"}.get(
        status or "", "no measured value yet")


def _target_chart(p: Any) -> Any:
    """The target's path (line) and the measured years (dots)."""
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    path = [(float(v.year), v.value) for v in p.path if v.value is not None]
    measured = [(float(v.year), v.value) for v in p.measured if v.value is not None]
    drawing = Drawing(460, 120)
    drawing.add(String(0, 108, f"{p.target.label} ({p.target.unit}): path and measured years",
                       fontName="Helvetica-Bold", fontSize=9))
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 15, 400, 85
    plot.data = [path, measured or [path[0]]]
    plot.lines[0].strokeColor = colors.HexColor("#2f6f9f")
    plot.lines[1].strokeColor = colors.HexColor("#b5523b")
    plot.lines[1].strokeWidth = 0 if not measured else 1
    plot.lines[1].symbol = makeMarker("FilledCircle")
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 7
    plot.xValueAxis.valueStep = 1
    drawing.add(plot)
    return drawing


def _co2_chart(report: DistrictReport) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(460, 130)
    per = "month" if len(report.period) == 4 else "day"
    drawing.add(String(0, 118, f"CO2 from electricity (t) per {per}", fontName="Helvetica-Bold", fontSize=9))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 20, 400, 90
    chart.data = [[r.co2_t or 0.0 for r in report.rows] or [0.0]]
    chart.categoryAxis.categoryNames = [r.label[-2:] for r in report.rows] or [""]
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#6b7d8f")
    drawing.add(chart)
    return drawing


def render_report_pdf(report: DistrictReport) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    kind = "Yearly" if len(report.period) == 4 else "Monthly"
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=f"{kind} district report {report.period}",
                            author=report.name, leftMargin=42, rightMargin=42, topMargin=36, bottomMargin=36)
    grid = TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8.5), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    t = report.totals
    summary = Table([
        ["In short", ""],
        ["Firms taking part", str(report.firms)],
        ["CO2 from the electricity drawn", fmt(t.co2_t, "t")],
        ["Share of consumption met by local solar power", pct(t.renewable_share)],
        ["Self-sufficiency (consumption not drawn from the grid)", pct(t.self_sufficiency)],
        ["Energy shared between the firms", fmt(t.shared_mwh, "MWh", 2)],
        ["Incentive earned on shared energy", fmt(t.incentive_eur, "EUR", 2)],
        ["Water drawn", fmt(t.water_intake_m3, "m3", 0)],
        ["Share of the water that was recycled", pct(t.water_reuse_ratio)],
        ["Leaks found / fixed", f"{report.leaks_found} / {report.leaks_fixed}"],
    ], colWidths=[300, 140], style=grid)
    story: list[Any] = [
        Paragraph(f"{report.name}: {kind.lower()} report {report.period}", styles["Title"]),
        Paragraph("How the district is doing against the targets agreed between the municipality and "
                  "the operator, from the firms' meters. No figure here shows a single firm: a figure "
                  "that fewer than three firms make, or that one firm makes for more than 85 %, is "
                  "marked 'not published'."
                  + (" The period is not over: figures are the period so far." if t.partial else ""),
                  styles["Normal"]),
        Spacer(1, 8), summary, Spacer(1, 10), Paragraph("Targets", styles["Heading2"])]
    if not report.targets:
        story.append(Paragraph("No targets have been agreed yet.", styles["Normal"]))
    for p in report.targets:
        story.append(Paragraph(
            f"<b>{p.target.label}</b>: from {fmt(p.target.baseline_value, p.target.unit, 2)} in "
            f"{p.target.baseline_year} to {fmt(p.target.target_value, p.target.unit, 2)} "
            f"by {p.target.target_year}. "
            f"In {p.year} the path expects {fmt(p.expected, p.target.unit, 2)}; measured "
            f"{fmt(p.actual, p.target.unit, 2)}: <b>{status_words(p.status)}</b>"
            + ("" if p.gap is None else f" (gap {p.gap:+.2f} {p.target.unit})") + ".", styles["Normal"]))
        story.append(_target_chart(p))
    story += [Spacer(1, 6), _co2_chart(report)]
    inv = report.inventory
    if inv is not None:
        story += [Paragraph("Emission inventory (Covenant of Mayors layout)", styles["Heading2"]),
                  Table([["Sector", "Energy carrier", "Energy (MWh)", "CO2 (t)"]]
                        + [[r.sector_label, r.carrier_label, fmt(r.energy_mwh, "", 2), fmt(r.co2_t, "", 2)]
                           for r in inv.rows]
                        + [["Total", "", fmt(inv.total_energy_mwh, "", 2), fmt(inv.total_co2_t, "", 2)]],
                        colWidths=[170, 150, 70, 60], style=grid),
                  Paragraph(f"Grid electricity at {inv.electricity_factor_t_co2_per_mwh} t CO2/MWh "
                            "(location-based); local solar power without CO2.", styles["Normal"])]
    story += [Spacer(1, 8),
              Paragraph(f"Made {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} from measured meter data.",
                        styles["Italic"])]
    doc.build(story)
    return buf.getvalue()
