"""A firm's monthly statement as PDF (reportlab): the totals and a chart of where the money came from."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

__all__ = ["render_statement_pdf"]


def _eur(v: float) -> str:
    return f"{v:.2f} EUR"


def _kwh(v: float) -> str:
    return f"{v:.1f} kWh"


def _chart(total: dict[str, Any]) -> Any:
    """Horizontal bars: the incentive parts the firm received against its energy cost."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    labels = ["Energy cost", "Producer part", "Consumer part", "Social part", "Incentive received"]
    values = [total["energy_cost_eur"], total["producer_eur"], total["consumer_eur"], total["social_eur"],
              total["incentive_eur"]]
    drawing = Drawing(460, 140)
    drawing.add(String(0, 128, "Where the money came from (EUR)", fontName="Helvetica-Bold", fontSize=10))
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 110, 10, 330, 110
    chart.data = [values]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontSize = 8
    low, high = min(0.0, *values), max(1.0, *values)
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = low * 1.1, high * 1.1
    chart.bars[0].fillColor = colors.HexColor("#2f7d4f")
    chart.bars[(0, 0)].fillColor = colors.HexColor("#b5523b")
    drawing.add(chart)
    return drawing


def render_statement_pdf(statement: dict[str, Any], *, district: str) -> bytes:
    """One A4 page: the firm's month, its incentive by the statute, the district's totals, the chart."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    t, d, c = statement["total"], statement["district_total"], statement["configuration_total"]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=f"Statement {statement['site']} {statement['month']}",
                            author=district, leftMargin=42, rightMargin=42, topMargin=36, bottomMargin=36)
    grid = TableStyle([("FONTSIZE", (0, 0), (-1, -1), 8.5), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                       ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    firm = Table([
        ["Your month", ""],
        ["Energy drawn", _kwh(t["drawn_kwh"])], ["Energy fed in", _kwh(t["fed_kwh"])],
        ["PV self-consumed", _kwh(t["self_consumed_kwh"])],
        ["Shared energy from your plants", _kwh(t["shared_fed_kwh"])],
        ["Energy cost (import - export)", _eur(t["energy_cost_eur"])],
        ["Shared batteries (your shares)", _eur(t["shared_assets_eur"])],
        ["Producer part", _eur(t["producer_eur"])], ["Consumer part", _eur(t["consumer_eur"])],
        ["Social part", _eur(t["social_eur"])], ["Incentive received", _eur(t["incentive_eur"])],
        ["Net cost", _eur(t["net_cost_eur"])], ["CO2", f"{t['co2_kg']:.1f} kg"],
    ], colWidths=[260, 160], style=grid)
    community = Table([
        ["Incentive", f"Configuration {statement['configuration']}", "District"],
        ["Shared energy", _kwh(c["shared_kwh"]), _kwh(d["shared_kwh"])],
        ["Premium (TIP)", _eur(c["premium_eur"]), _eur(d["premium_eur"])],
        ["ARERA valorisation", _eur(c["valorisation_eur"]), _eur(d["valorisation_eur"])],
        ["Incentive earned", _eur(c["incentive_eur"]), _eur(d["incentive_eur"])],
        ["Community fund", _eur(c["fund_eur"]), _eur(d["fund_eur"])],
        ["Social purposes", _eur(c["social_fund_eur"]), _eur(d["social_fund_eur"])],
    ], colWidths=[160, 140, 120], style=grid)
    saved = statement.get("savings")
    savings = [] if not saved else [Spacer(1, 10), Table([
        [f"Savings ({saved['days']} day(s) with the coordinator's baselines)", ""],
        ["Net cost, coordinated plan", _eur(saved["coordinated_net_cost_eur"])],
        ["Net cost, each firm alone (fair baseline)", _eur(saved["fair_baseline_net_cost_eur"])],
        ["Net cost, doing nothing", _eur(saved["do_nothing_net_cost_eur"])],
        ["Saved against the fair baseline", _eur(saved["savings_vs_fair_baseline_eur"])],
        ["Saved against doing nothing", _eur(saved["savings_vs_do_nothing_eur"])],
    ], colWidths=[260, 160], style=grid)]
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc.build([
        Paragraph(f"{district}: monthly statement", styles["Title"]),
        Paragraph(f"{statement['name']} ({statement['site']}), {statement['month']}", styles["Heading2"]),
        Spacer(1, 6), firm, *savings, Spacer(1, 12), _chart(t), Spacer(1, 12), community, Spacer(1, 10),
        Paragraph("From measured meter data, settled by the district's rules (GSE's premium per "
                  "configuration and hour, ARERA's valorisation, the statute's split); amounts to the cent. "
                  f"Made {made}.", styles["Italic"]),
    ])
    return buf.getvalue()
