// The water page: intake by source, reuse ratio, discharge, intensity, drought allowance, water alerts,
// and (for a firm's manager or the operator) the leak ranking, balances and the night-shift calendar.
(function () {
  "use strict";
  const App = window.App, $ = s => document.querySelector(s);
  const SOURCES = [["public", "Public network", "#2e86de"], ["well", "Wells", "#8e6c3a"], ["recycled", "Recycled", "#1e9e61"]];
  const m3 = v => v == null ? "–" : (Math.round(v * 10) / 10).toLocaleString() + " m³";
  const pct = v => v == null ? "–" : Math.round(v * 100) + " %";

  function shell() {
    const sites = (App.district.sites || []).filter(s => s.has_water);
    const pick = App.isPublic() ? "" : `<label>Site <select id="water-site">${sites.map(s => `<option value="${s.id}">${App.esc(s.name)}</option>`).join("")}</select></label>`;
    $("#water-root").innerHTML = `<div class="toolbar">${pick}<span id="water-severity" class="muted"></span></div>
      <div id="water-tiles" class="tiles"></div>
      <div class="grid2"><div class="card"><h3>Intake by source, per day</h3><svg id="water-chart" class="chart"></svg></div>
      <div class="card"><h3>Water alerts</h3><table id="water-alerts"></table></div></div>
      <div class="card"><h3>Days</h3><table id="water-days"></table></div>` +
      (App.isPublic() ? "" : `<div class="card"><h3>Intake against the allowance, today</h3><table id="water-allowances"></table></div>
      <div class="card"><h3>Leaks, ranked by estimated volume</h3><table id="water-leaks"></table></div>
      <div class="grid2"><div class="card"><h3>Water balance of the firm, per day</h3><table id="water-balance"></table></div>
      <div class="card"><h3>Recycled-water network, per day</h3><table id="water-network"></table></div></div>
      <div class="card"><h3>Declared night shifts</h3><p class="muted">Nights with production: kept out of the normal night-flow baseline.</p>
      <form id="shift-form"><input type="date" id="shift-night" required> <button type="submit">Declare a night shift</button> <span id="shift-error" class="muted"></span></form>
      <table id="water-shifts"></table></div>`);
    const sel = $("#water-site"); if (sel) sel.onchange = load;
    if (!App.isPublic()) allowances(sites.filter(s => App.sites[s.id]));  // the firms this viewer may see
  }

  // Every firm the viewer may see, today: intake against its allowance at the district's level
  // (in a drought the operator watches them all at once).
  async function allowances(sites) {
    const rows = await Promise.all(sites.map(async s => {
      try { const r = await App.api(`/api/v1/sites/${s.id}/water?period=day`); return [s, r.rows[r.rows.length - 1] || {}, r.severity]; }
      catch (e) { return [s, {}, null]; }
    }));
    const over = r => r.over === true;
    $("#water-allowances").innerHTML = "<tr><th>Firm</th><th>Counted intake</th><th>Allowance</th><th>Used</th></tr>" + rows.map(([s, r, sev]) =>
      `<tr id="allowance-${s.id}"${over(r) ? ' class="sev-critical"' : ""}><td>${App.esc(s.name)}</td><td>${m3(r.allowance_counted_m3)}</td>` +
      `<td>${r.allowance_m3 == null ? "none set" : m3(r.allowance_m3) + ` (${App.esc(r.allowance_severity || sev)})`}</td><td>${r.over ? "over" : pct(r.allowance_used)}</td></tr>`).join("");
  }

  async function load() {
    const sel = $("#water-site");
    const path = sel ? `/api/v1/sites/${sel.value}/water` : "/api/v1/district/water";
    let report;
    const chosen = sel ? sel.value : null;
    try { report = await App.api(path + "?period=day"); } catch (e) { $("#water-tiles").innerHTML = `<p class="muted">${App.esc(e.message || e)}</p>`; return; }
    if (sel && sel.value !== chosen) return;  // another site was chosen meanwhile
    const t = report.totals, today = report.rows[report.rows.length - 1] || {};
    $("#water-severity").textContent = `district water-severity level: ${report.severity}`;
    const tiles = [["Reuse ratio (7 days)", pct(t.reuse_ratio), "water-reuse"], ["Intake (7 days)", m3(t.intake_m3), "water-intake"]]
      .concat(SOURCES.filter(([k]) => t[`intake_${k}_m3`] != null).map(([k, label]) => [label + " (7 days)", m3(t[`intake_${k}_m3`]), "water-source-" + k]))
      .concat([["Discharge (7 days)", m3(t.discharge_m3), "water-discharge"]]);
    const unit = report.production_unit;
    if (unit && t.intensity_m3_per_unit != null) tiles.push([`Water intensity (7 days)`, `${t.intensity_m3_per_unit.toFixed(3)} m³/${App.esc(unit)}`, "water-intensity"]);
    if (today.allowance_m3 != null) tiles.push([`Allowance used today (${report.severity})`, pct(today.allowance_used), "water-allowance"]);
    $("#water-tiles").innerHTML = tiles.map(([l, v, id]) => `<div class="tile" id="${id}"><div class="label">${l}</div><div class="value">${v}</div></div>`).join("");
    const rows = report.rows;
    Charts.line($("#water-chart"), SOURCES.filter(([k]) => rows.some(r => r.intake_by_source_m3[k] != null)).map(([k, label, color]) => ({
      label, color, kind: "bar", points: rows.map(r => [r.period_start_ms, r.intake_by_source_m3[k]]) })),
      { from: rows.length ? rows[0].period_start_ms : undefined, to: rows.length ? rows[rows.length - 1].period_start_ms + 86400e3 : undefined, barMs: 86400e3, unit: "m³" });
    $("#water-days").innerHTML = "<tr><th>Day</th>" + SOURCES.map(([, l]) => `<th>${l}</th>`).join("") + "<th>Reuse</th><th>Discharge</th>" + (unit ? `<th>Output (${App.esc(unit)})</th><th>m³/${App.esc(unit)}</th>` : "") + "<th>Allowance used</th></tr>" +
      rows.slice().reverse().map(r => `<tr><td>${new Date(r.period_start_ms).toLocaleDateString([], { timeZone: App.district.timezone })}</td>` + SOURCES.map(([k]) => `<td>${m3(r.intake_by_source_m3[k])}</td>`).join("") +
        `<td>${pct(r.reuse_ratio)}</td><td>${m3(r.discharge_m3)}</td>` +
        (unit ? `<td>${r.output_units == null ? "–" : r.output_units.toLocaleString()}</td><td>${r.intensity_m3_per_unit == null ? "–" : r.intensity_m3_per_unit.toFixed(3)}</td>` : "") +
        `<td${r.over ? ' class="sev-critical"' : ""}>${r.over ? "over" : pct(r.allowance_used)}${r.allowance_severity ? " · " + App.esc(r.allowance_severity) : ""}</td></tr>`).join("");
    if (App.isPublic()) { $("#water-alerts").innerHTML = "<tr><td class=muted>Alerts are shown to each firm's site manager.</td></tr>"; return; }
    const site = App.sites[sel.value];
    const meters = new Set(((site && site.config.water) || { meters: [] }).meters.map(m => m.device));
    const alerts = (await App.api(`/api/v1/sites/${sel.value}/alerts`)).filter(a => meters.has(a.alert.device) || /flow|leak|water/.test(a.alert.kind));
    leaks(); balance(sel.value); network(); shifts(sel.value);
    $("#water-alerts").innerHTML = alerts.length ? "<tr><th>Time</th><th>Alert</th><th>State</th></tr>" + alerts.map(a =>
      `<tr><td>${App.fmtTime(a.alert.ts)}</td><td class="sev-${a.alert.severity}">${App.esc(a.alert.message)}</td><td>${a.alert.active ? "active" : "cleared"}${a.acknowledged_by ? " · acknowledged by " + App.esc(a.acknowledged_by) : ""}</td></tr>`).join("")
      : "<tr><td class=muted>No water alerts.</td></tr>";
  }
  const day = ms => new Date(ms).toLocaleDateString([], { timeZone: App.district.timezone });
  const eur = v => v == null ? "–" : v.toFixed(2) + " €";
  const fail = (id, e) => { $(id).innerHTML = `<tr><td class=muted>${App.esc(e.message || e)}</td></tr>`; };

  // Active leaks of every firm in view, largest estimated volume first.
  async function leaks() {
    let rows; try { rows = await App.api("/api/v1/district/water/leaks"); } catch (e) { return fail("#water-leaks", e); }
    $("#water-leaks").innerHTML = rows.length ? "<tr><th>Firm</th><th>Meter</th><th>Since</th><th>Night flow</th><th>Estimated leakage</th><th>Cost</th></tr>" + rows.map(r =>
      `<tr class="leak-row"><td>${App.esc(((App.district.sites || []).find(s => s.id === r.site) || {}).name || r.site)}</td><td>${App.esc(r.device || "")}</td><td>${App.fmtTime(r.since_ms)}</td>` +
      `<td>${r.min_night_flow_m3h == null ? "–" : r.min_night_flow_m3h.toFixed(2) + " m³/h"}</td><td>${m3(r.leakage_m3_per_day)}/day</td><td>${r.leakage_eur_per_day == null ? "–" : eur(r.leakage_eur_per_day) + "/day"}</td></tr>`).join("")
      : "<tr><td class=muted>No active leak.</td></tr>";
  }

  function balanceTable(report, inLabel, outLabel) {
    return `<tr><th>Day</th><th>${inLabel}</th><th>${outLabel}</th><th>Unexplained</th><th>%</th></tr>` + report.rows.slice().reverse().map(r =>
      `<tr${r.over_threshold ? ' class="sev-critical"' : ""}><td>${day(r.period_start_ms)}</td><td>${m3(r.in_m3)}</td><td>${m3(r.explained_m3)}</td><td>${m3(r.unexplained_m3)}</td>` +
      `<td>${r.unexplained_pct == null ? "–" : r.unexplained_pct.toFixed(1) + " %"}</td></tr>`).join("") +
      `<tr class="total"><td>7 days (threshold ${report.threshold_pct} %)</td><td>${m3(report.totals.in_m3)}</td><td>${m3(report.totals.explained_m3)}</td><td>${m3(report.totals.unexplained_m3)}</td>` +
      `<td>${report.totals.unexplained_pct == null ? "–" : report.totals.unexplained_pct.toFixed(1) + " %"}</td></tr>`;
  }

  async function balance(site) {
    try { $("#water-balance").innerHTML = balanceTable(await App.api(`/api/v1/sites/${site}/water/balance`), "Intake", "Discharge + declared use"); }
    catch (e) { fail("#water-balance", e); }
  }

  // The reuse plant's output against the firms' recycled intake (operator and the plant's managers only).
  async function network() {
    try { $("#water-network").innerHTML = balanceTable(await App.api("/api/v1/district/water/recycled-network"), "Plant output", "Firms' recycled intake"); }
    catch (e) { fail("#water-network", e); }
  }

  async function shifts(site) {
    const url = `/api/v1/sites/${site}/water/night-shifts`;
    const render = list => {
      $("#water-shifts").innerHTML = list.length ? "<tr><th>Night starting</th><th>Declared by</th><th></th></tr>" + list.map(s =>
        `<tr class="shift-row"><td>${App.esc(s.night)}</td><td>${s.source === "registry" ? "registry" : App.esc(s.set_by || "")}</td>` +
        `<td><button type="button" data-night="${App.esc(s.night)}">Withdraw</button></td></tr>`).join("") : "<tr><td class=muted>No night shift declared.</td></tr>";
      $("#water-shifts").querySelectorAll("button[data-night]").forEach(b => b.onclick = async () => {
        try { render(await App.api(`${url}/${b.dataset.night}`, { method: "DELETE" })); } catch (e) { $("#shift-error").textContent = e.message || e; }
      });
    };
    $("#shift-form").onsubmit = async ev => {
      ev.preventDefault();
      $("#shift-error").textContent = "";
      try { render(await App.api(url, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ nights: [$("#shift-night").value] }) })); }
      catch (e) { $("#shift-error").textContent = e.message || e; }
    };
    try { render(await App.api(url)); } catch (e) { fail("#water-shifts", e); }
  }

  App.water = () => { shell(); load(); };
})();
