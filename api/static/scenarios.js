// The scenarios page: the operator submits a sizing scenario; everyone reads results (district totals;
// firms' rows for the operator and each firm's manager). The worker runs the jobs (nzd scenario worker).
(function () {
  "use strict";
  const App = window.App, $ = s => document.querySelector(s);
  const NS = "http://www.w3.org/2000/svg";
  const num = (v, d) => v == null ? "–" : Number(v).toLocaleString([], { maximumFractionDigits: d == null ? 0 : d });
  let timer = null;

  function draft() {
    const sites = (App.district.sites || []).map(s => s.id);
    return {
      name: "roofs-" + new Date().toISOString().slice(0, 10), step_minutes: 60, representative_days: 6,
      surfaces: sites.map(s => ({ id: s + "-roof", site: s, kind: "roof", area_m2: 2000 })),
      batteries: sites.length ? [{ id: "shared-battery", site: sites[0], eur_per_kwh: 300, eur_per_kw: 100 }] : [],
      co2_sweep_pct: [0, 10, 20],
    };
  }

  function shell() {
    const op = App.me && App.me.role === "operator";
    $("#scenarios-root").innerHTML = (op ? `<div class="card"><h3>New scenario</h3>
        <p class="muted">Candidate surfaces and batteries as JSON (docs/scenarios.md); sized on representative days of a synthetic year.</p>
        <textarea id="scenario-json" rows="12" style="width:100%;font-family:monospace"></textarea>
        <div class="toolbar"><button id="scenario-run">Run scenario</button> <span id="scenario-status" class="muted"></span></div></div>` : "") +
      `<div class="grid2"><div class="card"><h3>Scenarios</h3><table id="scenario-list"></table></div>
       <div class="card"><h3>Cost against CO2</h3><svg id="scenario-curve" class="chart" viewBox="0 0 520 260"></svg></div></div>
       <div class="toolbar"><button id="scenario-pdf" hidden>Scenario PDF</button> <span id="scenario-note" class="muted"></span></div>
       <div id="scenario-tiles" class="tiles"></div>
       <div class="card"><h3>Sizes</h3><table id="scenario-sizes"></table></div>
       <div class="card"><h3>Firms</h3><table id="scenario-firms"></table></div>`;
    if (op) {
      $("#scenario-json").value = JSON.stringify(draft(), null, 1);
      $("#scenario-run").onclick = submit;
    }
  }

  async function submit() {
    let body;
    try { body = JSON.parse($("#scenario-json").value); } catch (e) { $("#scenario-status").textContent = "not valid JSON: " + e.message; return; }
    try {
      const r = await App.api("/api/v1/scenarios", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      $("#scenario-status").textContent = "queued";
      await list();
      follow(r.id);
    } catch (e) { $("#scenario-status").textContent = String(e.message || e); }
  }

  function follow(id) {
    if (timer) clearTimeout(timer);
    const tick = async () => {
      let job;
      try { job = await App.api(`/api/v1/scenarios/${id}`); } catch (e) { $("#scenario-status") && ($("#scenario-status").textContent = String(e.message || e)); return; }
      const st = $("#scenario-status"); if (st) st.textContent = job.state + (job.error ? ": " + job.error : "");
      if (job.state === "done") { show(job); list(); return; }
      if (job.state === "failed") { list(); return; }
      timer = setTimeout(tick, 1500);
    };
    tick();
  }

  async function list() {
    const jobs = await App.api("/api/v1/scenarios");
    $("#scenario-list").innerHTML = jobs.length ? "<tr><th>Scenario</th><th>State</th><th>Submitted</th></tr>" + jobs.map(j =>
      `<tr><td><a href="#" data-job="${j.id}">${App.esc(j.name || j.id)}</a></td><td class="job-state">${App.esc(j.state)}</td><td>${App.fmtTime(j.submitted_ms)}</td></tr>`).join("")
      : "<tr><td class=muted>No scenarios yet.</td></tr>";
    document.querySelectorAll("#scenario-list a[data-job]").forEach(a => a.onclick = ev => { ev.preventDefault(); follow(a.dataset.job); });
  }

  // The PDF of the result shown, as this viewer may see it (the same public rule as the page).
  async function downloadPdf(id) {
    const headers = App.token ? { Authorization: "Bearer " + App.token } : {};
    const r = await fetch(`/api/v1/scenarios/${id}/report.pdf`, { headers });
    if (!r.ok) { $("#scenario-note").textContent = `could not download: ${r.statusText}`; return; }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `scenario-${id}.pdf`;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  function show(job) {
    const r = job.result || {};
    const pdf = $("#scenario-pdf");
    pdf.hidden = false;
    pdf.onclick = () => downloadPdf(job.id);
    const y = r.year || {}, f = r.finance || {};
    // The district totals as the API shows them to this viewer (a firm's manager gets only its own rows).
    const kwp = "pv_kwp_total" in r ? r.pv_kwp_total : (r.surfaces || []).reduce((a, s) => a + s.kwp, 0);
    const kwh = "battery_kwh_total" in r ? r.battery_kwh_total : (r.batteries || []).reduce((a, b) => a + b.kwh, 0);
    $("#scenario-tiles").innerHTML = [["PV", num(kwp), "kWp"], ["Storage", num(kwh), "kWh"], ["Capex", num(r.capex_eur), "EUR"],
      ["NPV", num(f.npv_eur), "EUR"], ["IRR", f.irr == null ? "–" : num(f.irr * 100, 1), "%"],
      ["Self-sufficiency", y.self_sufficiency == null ? "–" : num(y.self_sufficiency * 100, 1), "%"], ["Shared", num(y.shared_kwh), "kWh/year"],
      ["CO2 avoided", num(r.co2_avoided_t_per_year, 1), "t/year"]]
      .map(([k, v, u]) => `<div class="tile"><span>${k}</span><b>${v}</b> ${u}</div>`).join("");
    const sizes = (r.surfaces || []).map(s => `<tr><td>${App.esc(s.id)}</td><td>${App.esc(s.site)}</td><td class="kwp">${num(s.kwp, 1)} kWp</td><td>of ${num(s.max_kwp)} kWp</td></tr>`)
      .concat((r.batteries || []).map(b => `<tr><td>${App.esc(b.id)}</td><td>${App.esc(b.site)}</td><td class="kwh">${num(b.kwh, 1)} kWh</td><td>${num(b.kw, 1)} kW</td></tr>`));
    $("#scenario-sizes").innerHTML = sizes.length ? "<tr><th>Candidate</th><th>Site</th><th>Size</th><th></th></tr>" + sizes.join("")
      : `<tr><td>District total: <b class="kwp">${num(kwp, 1)} kWp</b> PV, <b>${num(kwh, 1)} kWh</b> storage (per surface for the operator and each firm)</td></tr>`;
    $("#scenario-firms").innerHTML = (r.firms || []).length ? "<tr><th>Firm</th><th>Capex</th><th>Incentive/year</th><th>Gain/year</th></tr>" +
      r.firms.map(x => `<tr><td>${App.esc(x.site)}</td><td>${num(x.capex_eur)} EUR</td><td>${num(x.incentive_eur)} EUR</td><td>${num(x.gain_eur_per_year)} EUR</td></tr>`).join("")
      : "<tr><td class=muted>Firms' figures are shown to the operator and to each firm.</td></tr>";
    // A figure the public rule withholds is null: shown as "–", left off the curve.
    curve($("#scenario-curve"), (r.co2_curve || []).filter(p => p.feasible && p.co2_t != null && p.annual_cost_eur != null));
  }

  function curve(svg, pts) {
    svg.innerHTML = "";
    const el = (n, a) => { const e = document.createElementNS(NS, n); for (const k in a) e.setAttribute(k, a[k]); svg.appendChild(e); return e; };
    if (!pts.length) { el("text", { x: 260, y: 130, "text-anchor": "middle" }).textContent = "no curve"; return; }
    const W = 520, H = 260, m = { l: 70, r: 20, t: 15, b: 40 };
    const xs = pts.map(p => p.co2_t), ys = pts.map(p => p.annual_cost_eur / 1000);
    let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (x1 - x0 < 1e-9) { x0 -= 1; x1 += 1; } if (y1 - y0 < 1e-9) { y0 -= 1; y1 += 1; }
    const X = v => m.l + (v - x0) / (x1 - x0) * (W - m.l - m.r), Y = v => H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b);
    el("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, stroke: "#999" });
    el("line", { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, stroke: "#999" });
    el("text", { x: W / 2, y: H - 8, "text-anchor": "middle" }).textContent = "CO2 t/year";
    el("text", { x: 6, y: m.t + 10 }).textContent = "kEUR/year";
    [[x0, y0], [x1, y1]].forEach(([xv, yv]) => {
      el("text", { x: X(xv), y: H - m.b + 14, "text-anchor": "middle", "font-size": 10 }).textContent = num(xv);
      el("text", { x: m.l - 4, y: Y(yv) + 4, "text-anchor": "end", "font-size": 10 }).textContent = num(yv);
    });
    el("polyline", { points: pts.map(p => `${X(p.co2_t)},${Y(p.annual_cost_eur / 1000)}`).join(" "), fill: "none", stroke: "#1e9e61", "stroke-width": 2, class: "co2-curve" });
    pts.forEach(p => {
      const c = el("circle", { cx: X(p.co2_t), cy: Y(p.annual_cost_eur / 1000), r: 4, fill: "#1e9e61", class: "co2-point" });
      const t = document.createElementNS(NS, "title"); t.textContent = `-${p.reduction_pct} %: ${num(p.co2_t, 1)} t, ${num(p.annual_cost_eur)} EUR/year`; c.appendChild(t);
    });
  }

  App.views.scenarios = () => { shell(); list().catch(e => { $("#scenario-list").innerHTML = `<tr><td>${App.esc(e.message || e)}</td></tr>`; }); };
})();
