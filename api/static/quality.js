// Numbers you can sign: how complete a KPI row is, which readings were rejected, and where a
// plan breaks a connection limit. Kept apart from app.js and views.js, which call in here.
(function () {
  const esc = s => App.esc(String(s));
  // "coverage 94 % · 1 reading rejected (main-meter: flagged 1)" for a site KPI row.
  App.kpiQuality = function (row) {
    if (!row) return "";
    const parts = [];
    const grid = (row.coverage || {}).import_kwh;
    if (grid && grid.expected_intervals) {
      const pct = Math.floor(100 * grid.present_intervals / grid.expected_intervals);
      parts.push(`<span class="${pct < 100 ? "flagged" : ""}" id="kpi-coverage">coverage ${pct} %</span>`);
    }
    const rejected = row.rejected_readings || {};
    const detail = Object.entries(rejected).map(([device, kinds]) =>
      `${esc(device)}: ` + Object.entries(kinds).map(([k, n]) => `${esc(k)} ${n}`).join(", "));
    const total = Object.values(rejected).reduce((a, kinds) => a + Object.values(kinds).reduce((b, n) => b + n, 0), 0);
    if (total) parts.push(`<span class="flagged" id="kpi-rejected">${total} reading${total > 1 ? "s" : ""} rejected (${detail.join("; ")})</span>`);
    if (row.partial) parts.push("partial period");
    return parts.length ? " · " + parts.join(" · ") : "";
  };
  // The plan's breaches of this site's connection limit, under the plan's header.
  App.showBreaches = function (doc, site) {
    const el = document.getElementById("plan-breaches");
    if (!el) return;
    const mine = ((doc && doc.limit_breaches) || []).filter(b => b.site === site);
    el.innerHTML = mine.map(b => `<span class="flagged">Plan imports above the ${Charts.fmt(b.limit_kw)} kW connection limit in ` +
      `${b.steps.length} step${b.steps.length > 1 ? "s" : ""}, up to ${Charts.fmt(b.max_kw_over)} kW over</span>`).join("<br>");
  };
})();
