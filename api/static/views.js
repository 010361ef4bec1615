// History, plan against actuals, alerts (and the water page when water KPIs are served).
(function () {
  "use strict";
  const App = window.App, $ = s => document.querySelector(s);
  const COLORS = ["#c0392b", "#2e86de", "#e6a700", "#1e9e61", "#6c5ce7", "#00a8a8"];

  function fillSites(select) {
    const keep = select.value;
    select.innerHTML = (App.district.sites || []).map(s => `<option value="${s.id}">${App.esc(s.name)}</option>`).join("");
    if (keep && [...select.options].some(o => o.value === keep)) select.value = keep;
  }

  // ---- history -------------------------------------------------------------------------
  async function loadHistory() {
    const site = $("#history-site").value, q = $("#history-quantity").value, hours = +$("#history-range").value;
    const interval = hours <= 24 ? "15m" : hours <= 168 ? "1h" : "6h";
    const to = new Date(App.now()), from = new Date(to.getTime() - hours * 3600e3);
    $("#history-title").textContent = `${$("#history-quantity").selectedOptions[0].text} — ${$("#history-site").selectedOptions[0].text}`;
    try {
      const series = await App.api(`/api/v1/sites/${site}/history?quantities=${q}&interval=${interval}&from=${from.toISOString()}&to=${to.toISOString()}`);
      if ($("#history-site").value !== site || $("#history-quantity").value !== q) return;
      Charts.line($("#history-chart"), series.map((s, i) => ({ label: s.device, color: COLORS[i % COLORS.length],
        points: s.times_ms.map((t, k) => [t, s.values[q][k]]) })), { from: from.getTime(), to: to.getTime() });
      $("#history-note").textContent = `${series.length} device(s), ${interval} averages`;
    } catch (e) { $("#history-note").textContent = String(e.message || e); }
  }
  $("#history-load").onclick = loadHistory;
  App.views.history = () => { fillSites($("#history-site")); loadHistory(); };

  // ---- plan against actuals --------------------------------------------------------------
  async function loadPlan() {
    const site = $("#plan-site").value;
    const [plan, setpoints, acks] = await Promise.all([App.api(`/api/v1/sites/${site}/plan`),
      App.api(`/api/v1/sites/${site}/setpoints?limit=10`), App.api(`/api/v1/sites/${site}/acks?limit=10`)]);
    if ($("#plan-site").value !== site) return;  // another site was chosen meanwhile
    const now = App.now();
    const series = [];
    let from = now - 6 * 3600e3, to = now + 18 * 3600e3;
    if (plan) {
      const d = plan.document, step = (d.step_minutes || 15) * 60e3, s = (d.sites || {})[site];
      $("#plan-meta").textContent = `plan ${plan.plan_id} · ${d.status || ""} · made ${App.fmtTime(plan.ts_ms)}`;
      if (App.showBreaches) App.showBreaches(d, site);
      if (s) {
        series.push({ label: "planned import", color: "#2e86de", kind: "step", dashed: true,
          points: s.grid_import_kw.map((v, i) => [d.start_ms + i * step, v - (s.grid_export_kw ? s.grid_export_kw[i] : 0)]) });
        to = d.start_ms + s.grid_import_kw.length * step;
      }
      $("#plan-targets").innerHTML = "<tr><th>Asset</th><th>Quantity</th><th>Value</th></tr>" + (d.targets || []).map(t =>
        `<tr><td>${App.esc(t.asset)}</td><td>${App.esc(t.quantity)}</td><td>${Charts.fmt(t.value)}</td></tr>`).join("");
    } else {
      $("#plan-meta").textContent = "no plan yet"; $("#plan-targets").innerHTML = "";
      if (App.showBreaches) App.showBreaches(null, site);
    }
    const actual = await App.api(`/api/v1/sites/${site}/history?quantities=active_power_w&interval=15m&from=${new Date(from).toISOString()}&to=${new Date(now).toISOString()}`);
    if ($("#plan-site").value !== site) return;
    const grid = new Set((App.sites[site].config.meters || []).filter(m => m.role === "grid").map(m => m.device));
    for (const s of actual) if (grid.has(s.device)) series.push({ label: "actual " + s.device, color: "#c0392b",
      points: s.times_ms.map((t, k) => [t, s.values.active_power_w[k] == null ? null : s.values.active_power_w[k] / 1000]) });
    Charts.line($("#plan-chart"), series, { from, to, now, unit: "kW", empty: "no plan and no readings yet" });
    $("#plan-acks").innerHTML = "<tr><th>Time</th><th>Asset</th><th>Value</th><th>Source</th><th>Result</th></tr>" + setpoints.map(sp => {
      const d = sp.document, ack = acks.find(a => a.document.setpoint_id === d.id);
      return `<tr><td>${App.fmtTime(sp.ts_ms)}</td><td>${App.esc(d.asset)}</td><td>${Charts.fmt(d.value)}</td><td>${App.esc(d.source)}</td><td>${ack ? App.esc(ack.document.result) : "<span class=muted>waiting</span>"}</td></tr>`;
    }).join("");
    const op = App.me && App.me.role === "operator";
    $("#manual-card").hidden = !op;
    if (op) {
      const c = App.sites[site].config;
      const assets = [...c.batteries, ...c.flexible_loads, ...c.tanks].map(a => a.asset).filter(Boolean);
      $("#manual-asset").innerHTML = assets.map(a => `<option>${App.esc(a)}</option>`).join("") || "<option disabled>no controllable asset</option>";
    }
  }
  $("#plan-site").onchange = loadPlan;
  $("#manual-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const r = await App.api(`/api/v1/sites/${$("#plan-site").value}/setpoints`, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ asset: $("#manual-asset").value, quantity: $("#manual-quantity").value,
          value: +$("#manual-value").value, valid_minutes: +$("#manual-minutes").value }) });
      $("#manual-result").textContent = `sent setpoint ${r.document.id}`; loadPlan();
    } catch (e) { $("#manual-result").textContent = String(e.message || e); }
  });
  App.views.plan = () => { fillSites($("#plan-site")); loadPlan().catch(e => { $("#plan-meta").textContent = String(e.message || e); }); };
  App.onPlan = () => { if (!$("#view-plan").hidden) loadPlan().catch(() => {}); };

  // ---- alerts ------------------------------------------------------------------------------
  App.refreshAlerts = async function () {
    if (App.isPublic()) return;
    const alerts = await App.api("/api/v1/alerts");
    const open = alerts.filter(a => a.alert.active && !a.acknowledged_by).length;
    const badge = $("#alert-count"); badge.hidden = !open; badge.textContent = open;
    $("#alerts-table").innerHTML = "<tr><th>Time</th><th>Site</th><th>Severity</th><th>Alert</th><th>State</th><th></th></tr>" + alerts.map(a => {
      const x = a.alert, ack = a.acknowledged_by ? `acknowledged by ${App.esc(a.acknowledged_by)}` : "";
      return `<tr><td>${App.fmtTime(x.ts)}</td><td>${App.esc(x.site)}</td><td class="sev-${x.severity}">${x.severity}</td><td>${App.esc(x.message)}</td>
        <td>${x.active ? "active" : "cleared"} ${ack ? "· " + ack : ""}</td>
        <td>${a.acknowledged_by ? "" : `<button class="secondary" data-ack="${App.esc(x.site)}/${App.esc(x.id)}">Acknowledge</button>`}</td></tr>`;
    }).join("") + (alerts.length ? "" : `<tr id="no-alerts"><td colspan="6" class="muted">No alerts.</td></tr>`);
    document.querySelectorAll("[data-ack]").forEach(b => b.onclick = async () => {
      const [site, id] = b.dataset.ack.split("/");
      try { await App.api(`/api/v1/sites/${site}/alerts/${id}/ack`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }); }
      catch (e) { alert(e.message || e); }
      App.refreshAlerts();
    });
  };
  // Dead letters: what ingest refused (bad payloads, reserved names, sites over their limits).
  App.refreshDeadLetters = async function () {
    const op = App.me && App.me.role === "operator";
    $("#deadletters-card").hidden = !op;
    if (!op) return;
    const d = await App.api("/api/v1/deadletters?limit=50");
    const kinds = Object.entries(d.by_kind).map(([k, n]) => `${App.esc(k)}: ${n}`).join(" · ");
    $("#deadletters-summary").textContent = d.total ? `${d.total} since the API started${kinds ? " · " : ""}` : "None since the API started.";
    if (kinds) $("#deadletters-summary").insertAdjacentHTML("beforeend", kinds);
    $("#deadletters-table").innerHTML = d.recent.length ? "<tr><th>Time</th><th>Topic</th><th>Reason</th></tr>" + d.recent.map(x =>
      `<tr><td>${App.fmtTime(x.ts)}</td><td>${App.esc(x.topic)}</td><td>${App.esc(x.reason)}</td></tr>`).join("") : "";
  };
  App.views.alerts = () => { App.refreshAlerts().catch(() => {}); App.refreshDeadLetters().catch(() => {}); };
  App.afterStart = () => App.refreshAlerts().catch(() => {});
  App.views.water = () => { if (App.water) App.water(); else $("#water-root").innerHTML = "<p class=muted>Water KPIs are not served yet.</p>"; };
})();
