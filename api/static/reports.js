// The Reports page: the district's agreed targets with their path and the measured years; for the
// authority and the operator a form to propose a target or a change and the open proposals, which
// the other party agrees to or rejects (the proposing party may withdraw them); the report and
// inventory downloads (public figures only).
(function () {
  "use strict";
  const App = window.App, $ = s => document.querySelector(s);
  const METRICS = [["co2_electricity_t", "CO2 from electricity (t)"], ["renewable_share", "Renewable share (0..1)"],
    ["self_sufficiency", "Self-sufficiency (0..1)"], ["water_intake_m3", "Water intake (m³)"],
    ["water_reuse_ratio", "Water reuse ratio (0..1)"], ["water_intensity_m3_per_unit", "Water intensity (m³/unit)"]];
  const STATUS = { ahead: "ahead of the path", on_track: "on track", behind: "behind the path" };
  const num = (v, d) => v == null ? "not published" : (+v).toLocaleString([], { maximumFractionDigits: d == null ? 2 : d });
  const mayEdit = () => App.me && (App.me.role === "authority" || App.me.role === "operator");
  const thisYear = () => +new Date(App.now()).toLocaleDateString("sv-SE", { timeZone: App.tz() }).slice(0, 4);

  function shell() {
    const year = $("#reports-year") ? $("#reports-year").value : thisYear();
    $("#reports-root").innerHTML = `<div class="toolbar">
        <label>Year <input id="reports-year" type="number" min="2000" max="2100" value="${App.esc(year)}"></label>
        <label>Month <input id="reports-month" type="month"></label>
        <button id="reports-load">Show</button>
        <button id="reports-pdf">Report PDF</button><button id="reports-html">Report page</button>
        <button id="reports-inventory">Emission inventory CSV</button>
        <span id="reports-note" class="muted"></span></div>
      <div id="reports-targets" class="grid2"></div>
      <div class="card" id="target-proposals-card" hidden><h3>Proposals <small>a proposal is the target once the other party agrees</small></h3>
        <div id="target-proposals"></div></div>
      <div class="card" id="target-form-card" hidden><h3>Propose a target <small>the other party agrees to it or rejects it; every step is kept</small></h3>
        <form id="target-form" class="stack">
          <label>Metric <select id="target-metric">${METRICS.map(([k, l]) => `<option value="${k}">${l}</option>`).join("")}</select></label>
          <label>Baseline year <input id="target-baseline-year" type="number" min="2000" max="2100" required></label>
          <label>Baseline value <input id="target-baseline-value" type="number" step="any" min="0" required></label>
          <label>Target year <input id="target-year" type="number" min="2000" max="2100" required></label>
          <label>Target value <input id="target-value" type="number" step="any" min="0" required></label>
          <label>Note <input id="target-note" maxlength="500"></label>
          <button type="submit" id="target-save">Propose</button><p id="target-result" class="muted"></p>
        </form></div>`;
    $("#reports-load").onclick = load;
    $("#reports-pdf").onclick = () => download("/api/v1/district/report.pdf", "pdf");
    $("#reports-html").onclick = () => download("/api/v1/district/report.html", "html");
    $("#reports-inventory").onclick = () => download(`/api/v1/district/inventory.csv?year=${year()}`, "csv", `inventory-${year()}.csv`);
    $("#target-metric").onchange = fillForm;
    $("#target-form").addEventListener("submit", save);
    $("#target-form-card").hidden = !mayEdit();
    $("#target-proposals-card").hidden = !mayEdit();
  }

  const year = () => encodeURIComponent($("#reports-year").value);
  const period = () => $("#reports-month").value || $("#reports-year").value;

  async function download(path, kind, name) {
    const url = path.includes("?") ? path : `${path}?period=${encodeURIComponent(period())}`;
    const headers = App.token ? { Authorization: "Bearer " + App.token } : {};
    const r = await fetch(url, { headers });
    if (!r.ok) { $("#reports-note").textContent = `could not download: ${r.statusText}`; return; }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = name || `district-report-${period()}.${kind}`;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  // The path as a line, the measured years as dots, the year asked as a ring on the path.
  function chart(p) {
    const W = 460, H = 170, m = { l: 52, r: 12, t: 12, b: 22 };
    const path = p.path.filter(v => v.value != null), meas = p.measured.filter(v => v.value != null);
    const all = path.concat(meas), ys = all.map(v => v.year), vs = all.map(v => v.value);
    const y0 = Math.min(...ys), y1 = Math.max(Math.max(...ys), y0 + 1);
    const v0 = Math.min(0, ...vs), v1 = (Math.max(...vs) * 1.1) || 1;
    const x = y => m.l + (y - y0) / (y1 - y0) * (W - m.l - m.r), y = v => H - m.b - (v - v0) / (v1 - v0) * (H - m.t - m.b);
    const ticks = [v0, (v0 + v1) / 2, v1].map(v => `<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10">${num(v)}</text>` +
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" class="gridline"></line>`).join("");
    const years = [y0, y1].map(t => `<text x="${x(t)}" y="${H - 6}" text-anchor="middle" font-size="10">${t}</text>`).join("");
    return `<svg class="chart target-chart" id="target-chart-${p.target.metric}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${App.esc(p.target.label)}: path and measured years">` +
      ticks + years +
      `<polyline class="target-path" points="${path.map(v => `${x(v.year).toFixed(1)},${y(v.value).toFixed(1)}`).join(" ")}" fill="none" stroke="#2e86de" stroke-width="2"></polyline>` +
      `<circle class="target-expected" cx="${x(p.year).toFixed(1)}" cy="${y(p.expected).toFixed(1)}" r="6" fill="none" stroke="#2e86de"></circle>` +
      meas.map(v => `<circle class="target-measured" cx="${x(v.year).toFixed(1)}" cy="${y(v.value).toFixed(1)}" r="4" fill="#c0392b"><title>${v.year}: ${num(v.value)}</title></circle>`).join("") +
      `</svg>`;
  }

  let progress = [];
  function fillForm() {
    const p = progress.find(q => q.target.metric === $("#target-metric").value);
    const t = p ? p.target : { baseline_year: thisYear() - 1, baseline_value: "", target_year: 2030, target_value: "", note: "" };
    $("#target-baseline-year").value = t.baseline_year; $("#target-baseline-value").value = t.baseline_value;
    $("#target-year").value = t.target_year; $("#target-value").value = t.target_value; $("#target-note").value = t.note || "";
  }

  async function load() {
    const note = $("#reports-note");
    note.textContent = "";
    try { progress = await App.api(`/api/v1/district/targets/progress?year=${year()}`); }
    catch (e) { note.textContent = String(e.message || e); return; }
    $("#reports-targets").innerHTML = progress.map(p => {
      const t = p.target, gap = p.gap == null ? "" : ` (gap ${p.gap > 0 ? "+" : ""}${num(p.gap)} ${App.esc(t.unit)})`;
      return `<div class="card" id="target-${t.metric}"><h3>${App.esc(t.label)} <small>${App.esc(t.unit)}</small></h3>
        <p>From ${num(t.baseline_value)} in ${t.baseline_year} to ${num(t.target_value)} by ${t.target_year}${t.note ? " · " + App.esc(t.note) : ""}.
        In ${p.year} the path expects ${num(p.expected)}; measured ${num(p.actual)}:
        <b class="target-status" data-status="${p.status || ""}">${STATUS[p.status] || "no measured value yet"}</b>${gap}${p.partial_year ? " · the year so far" : ""}.</p>
        ${chart(p)}<p class="muted target-agreed">${agreedBy(t)}</p></div>`;
    }).join("") || `<p class="muted">No targets have been agreed yet.</p>`;
    if (mayEdit()) { fillForm(); await loadProposals(); }
  }

  const who = (name, role) => `${App.esc(name)} (${App.esc(role)})`;
  const agreedBy = t => t.agreed_by == null
    ? `set by ${who(t.proposed_by, t.proposed_by_role)} ${App.fmtTime(t.agreed_at_ms)}, before targets were agreed`
    : `proposed by ${who(t.proposed_by, t.proposed_by_role)} ${App.fmtTime(t.proposed_at_ms)}, ` +
      `agreed by ${who(t.agreed_by, t.agreed_by_role)} ${App.fmtTime(t.agreed_at_ms)}`;

  // The open proposals: the other party agrees or rejects, the proposing party may withdraw; a
  // rejection and a withdrawal need a reason.
  async function loadProposals() {
    const box = $("#target-proposals");
    let open;
    try { open = await App.api("/api/v1/district/targets/proposals"); }
    catch (e) { box.textContent = String(e.message || e); return; }
    box.innerHTML = open.map(p => {
      const t = p.target, mine = p.proposed_by_role === App.me.role;
      const now = (progress.find(q => q.target.metric === p.metric) || {}).target;
      const was = now ? ` <span class="muted">(agreed now: ${num(now.baseline_value)} in ${now.baseline_year} to ${num(now.target_value)} by ${now.target_year})</span>` : " <span class=\"muted\">(a new target)</span>";
      const actions = mine
        ? `<button class="proposal-withdraw secondary">Withdraw</button>`
        : `<button class="proposal-agree">Agree</button><button class="proposal-reject secondary">Reject</button>`;
      return `<div class="proposal" id="proposal-${App.esc(p.id)}" data-id="${App.esc(p.id)}">
        <p><b>${App.esc(p.label)}</b>: from ${num(t.baseline_value)} in ${t.baseline_year} to ${num(t.target_value)} ${App.esc(p.unit)}
        by ${t.target_year}${t.note ? " · " + App.esc(t.note) : ""}.${was}<br><span class="muted">proposed by ${who(p.proposed_by, p.proposed_by_role)}
        ${App.fmtTime(p.proposed_at_ms)} · <span class="proposal-waiting">${mine ? `waiting for the ${App.esc(p.awaiting_role)}` : "waiting for you"}</span></span></p>
        <div class="toolbar">${actions}<label>Reason (to reject or withdraw) <input class="proposal-reason" maxlength="500"></label>
        <span class="proposal-result muted"></span></div></div>`;
    }).join("") || `<p class="muted">No open proposals.</p>`;
    box.querySelectorAll(".proposal").forEach(el => {
      const act = (verb, needsReason) => async () => {
        const reason = el.querySelector(".proposal-reason").value.trim(), out = el.querySelector(".proposal-result");
        if (needsReason && !reason) { out.textContent = "give a reason"; return; }
        try {
          await App.api(`/api/v1/district/targets/proposals/${encodeURIComponent(el.dataset.id)}/${verb}`, { method: "POST",
            headers: { "Content-Type": "application/json" }, body: needsReason ? JSON.stringify({ reason }) : undefined });
          await load();
        } catch (e) { out.textContent = String(e.message || e); }
      };
      const bind = (cls, verb, needsReason) => { const b = el.querySelector(cls); if (b) b.onclick = act(verb, needsReason); };
      bind(".proposal-agree", "agree", false); bind(".proposal-reject", "reject", true); bind(".proposal-withdraw", "withdraw", true);
    });
  }

  async function save(ev) {
    ev.preventDefault();
    const body = { baseline_year: +$("#target-baseline-year").value, baseline_value: +$("#target-baseline-value").value,
      target_year: +$("#target-year").value, target_value: +$("#target-value").value, note: $("#target-note").value };
    try {
      const p = await App.api(`/api/v1/district/targets/${$("#target-metric").value}`, { method: "PUT",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      $("#target-result").textContent = `proposed: waiting for the ${p.awaiting_role} to agree`; await load();
    } catch (e) { $("#target-result").textContent = String(e.message || e); }
  }

  App.views.reports = () => { shell(); load(); };
  // The authority sees district figures only: the firms' pages are not for it.
  const start = App.start;
  App.start = async function () {
    await start();
    if (App.me && App.me.role === "authority") document.querySelectorAll("#tabs [data-auth]").forEach(b => b.hidden = true);
  };
})();
