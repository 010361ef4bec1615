"""A scenario's result as PDF (reportlab): what to build, what it costs and earns, the year, the months
and the cost-CO2 curve. It renders what the viewer may see (api/scenario_view.py), so a figure the
public rule withholds reads "not published" here too."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from api.pdf_format import fmt, pct

__all__ = ["render_scenario_pdf"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def _years(v: Any) -> str:
    return "not published" if _num(v) is None else f"{v:.1f} years"


def _curve_chart(points: list[dict[str, Any]]) -> Any:
    """Yearly cost (kEUR) against CO2 (t/year): one dot per CO2 cap the viewer may see."""
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.graphics.widgets.markers import makeMarker
    from reportlab.lib import colors

    xy = [
        (float(p["co2_t"]), float(p["annual_cost_eur"]) / 1000.0)
        for p in points
        if p.get("feasible")
        and _num(p.get("co2_t")) is not None
        and _num(p.get("annual_cost_eur")) is not None
    ]
    drawing = Drawing(460, 150)
    drawing.add(
        String(
            0,
            138,
            "Cost against CO2: yearly cost (kEUR) per t CO2/year",
            fontName="Helvetica-Bold",
            fontSize=9,
        )
    )
    if not xy:
        drawing.add(String(40, 70, "No point of the curve is published.", fontSize=9))
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 50, 20, 390, 105
    plot.data = [sorted(xy)]
    plot.lines[0].strokeColor = colors.HexColor("#1e9e61")
    plot.lines[0].symbol = makeMarker("FilledCircle")
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 7
    drawing.add(plot)
    return drawing


def _rows_table(
    title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str, str]], grid: Any, styles: Any
) -> list[Any]:
    from reportlab.platypus import Paragraph, Table

    if not rows:
        return []
    body = [
        [str(r.get(k, "")) if unit == "text" else fmt(_num(r.get(k)), unit, 1) for _, k, unit in columns]
        for r in rows
    ]
    return [Paragraph(title, styles["Heading2"]), Table([[c[0] for c in columns], *body], style=grid)]


def render_scenario_pdf(view: dict[str, Any], *, name: str) -> bytes:
    """``view`` is the result as the viewer may see it."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=f"Scenario {name}",
        author=str(view.get("district") or ""),
        leftMargin=42,
        rightMargin=42,
        topMargin=36,
        bottomMargin=36,
    )
    grid = TableStyle(
        [
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    y, base = view.get("year") or {}, view.get("baseline_year") or {}
    f, cost = view.get("finance") or {}, view.get("annual_cost_eur") or {}
    kwp = view.get("pv_kwp_total")
    kwh = view.get("battery_kwh_total")
    if "pv_kwp_total" not in view:  # the operator's whole result: the sizes themselves
        kwp = sum(float(s["kwp"]) for s in view.get("surfaces") or [])
        kwh = sum(float(b["kwh"]) for b in view.get("batteries") or [])
    summary = Table(
        [
            ["In short", ""],
            ["PV to build", fmt(_num(kwp), "kWp", 0)],
            ["Storage to build", fmt(_num(kwh), "kWh", 0)],
            ["Investment", fmt(_num(view.get("capex_eur")), "EUR", 0)],
            [
                "Yearly benefit (energy saved + incentive - O&M)",
                fmt(_num(f.get("yearly_benefit_eur")), "EUR", 0),
            ],
            ["Net present value", fmt(_num(f.get("npv_eur")), "EUR", 0)],
            ["Internal rate of return", pct(_num(f.get("irr")))],
            [
                "Payback (simple / discounted)",
                f"{_years(f.get('simple_payback_years'))} / {_years(f.get('discounted_payback_years'))}",
            ],
            ["Cost of the new PV's energy (LCOE)", fmt(_num(f.get("lcoe_eur_per_kwh")), "EUR/kWh", 3)],
            ["CO2 avoided", fmt(_num(view.get("co2_avoided_t_per_year")), "t/year", 1)],
            [
                "Yearly cost, full year (representative days)",
                f"{fmt(_num(cost.get('full_year')), 'EUR', 0)} "
                f"({fmt(_num(cost.get('representative_days')), 'EUR', 0)})",
            ],
        ],
        colWidths=[280, 180],
        style=grid,
    )
    year_rows = [
        ("Consumption", "consumption_kwh", "kWh"),
        ("Drawn from the grid", "import_kwh", "kWh"),
        ("Fed into the grid", "export_kwh", "kWh"),
        ("Solar power used or fed in", "pv_kwh", "kWh"),
        ("Energy shared", "shared_kwh", "kWh"),
        ("Incentive (configurations)", "incentive_eur", "EUR"),
        ("Incentive to the members (statute)", "statute_incentive_eur", "EUR"),
        ("Energy cost", "energy_cost_eur", "EUR"),
        ("CO2", "co2_t", "t"),
    ]
    year = Table(
        [["The year", "without new assets", "with the scenario"]]
        + [
            [
                label,
                fmt(_num(base.get(k)), unit, 0 if unit != "t" else 1),
                fmt(_num(y.get(k)), unit, 0 if unit != "t" else 1),
            ]
            for label, k, unit in year_rows
        ]
        + [
            [
                "Self-sufficiency",
                pct(_num(base.get("self_sufficiency"))),
                pct(_num(y.get("self_sufficiency"))),
            ]
        ],
        colWidths=[200, 130, 130],
        style=grid,
    )
    monthly = view.get("monthly") or {}
    keys = ("consumption_kwh", "pv_kwh", "import_kwh", "export_kwh", "shared_kwh")
    months = Table(
        [["Month (kWh)", "Consumption", "Solar", "Drawn", "Fed in", "Shared"]]
        + [
            [_MONTHS[m] if m < 12 else str(m + 1)]
            + [fmt(_num((monthly.get(k) or [None] * 12)[m]), "", 0) for k in keys]
            for m in range(len(monthly.get("consumption_kwh") or []))
        ],
        style=grid,
    )
    curve = view.get("co2_curve") or []
    curve_table = Table(
        [["CO2 below the optimum", "CO2 (t/year)", "Yearly cost (EUR)", "EUR per t avoided"]]
        + [
            [
                f"{p.get('reduction_pct', 0):g} %",
                fmt(_num(p.get("co2_t")), "", 1),
                fmt(_num(p.get("annual_cost_eur")), "", 0) if p.get("feasible") else "out of reach",
                fmt(_num(p.get("eur_per_t_avoided")), "", 0) if "eur_per_t_avoided" in p else "-",
            ]
            for p in curve
        ],
        style=grid,
    )
    story: list[Any] = [
        Paragraph(f"Scenario {name}: what to build and what it earns", styles["Title"]),
        Paragraph(
            f"{view.get('description') or ''} Sized for {view.get('district') or 'the district'} over a year "
            f"at {view.get('step_minutes')}-minute steps. Figures a firm could be read from (fewer than "
            "three firms, or one firm above 85 %) are marked 'not published'.",
            styles["Normal"],
        ),
        Spacer(1, 8),
        summary,
        Spacer(1, 10),
        year,
        Spacer(1, 10),
        _curve_chart(curve),
        curve_table,
        Spacer(1, 10),
        months,
    ]
    story += _rows_table(
        "PV per surface",
        view.get("surfaces") or [],
        [
            ("Surface", "id", "text"),
            ("Firm", "site", "text"),
            ("kWp", "kwp", ""),
            ("of at most kWp", "max_kwp", ""),
            ("Capex EUR", "capex_eur", ""),
        ],
        grid,
        styles,
    )
    story += _rows_table(
        "Batteries",
        view.get("batteries") or [],
        [
            ("Battery", "id", "text"),
            ("At", "site", "text"),
            ("kWh", "kwh", ""),
            ("kW", "kw", ""),
            ("Capex EUR", "capex_eur", ""),
        ],
        grid,
        styles,
    )
    story += _rows_table(
        "Each firm (the statute's split of the incentive), EUR per year",
        view.get("firms") or [],
        [
            ("Firm", "site", "text"),
            ("Capex", "capex_eur", ""),
            ("Incentive", "incentive_eur", ""),
            ("Energy cost", "energy_cost_eur", ""),
            ("Gain", "gain_eur_per_year", ""),
        ],
        grid,
        styles,
    )
    story += [
        Spacer(1, 8),
        Paragraph(
            f"Made {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by nzd (docs/scenarios.md).",
            styles["Italic"],
        ),
    ]
    doc.build(story)
    return buf.getvalue()
