// The firm's view: today's energy, cost and self-sufficiency, each controllable asset's schedule from
// the latest plan against what was measured, and a manual setpoint form with each asset's limits.
(function () {
  "use strict";
  const App = window.App, $ = s => document.querySelector(s);
  const HOUR = 3600e3;
  const stale = site => $("#firm-site").value !== site;  // another firm was chosen meanwhile

  function tile(label, value, unit, id) {
    return `<div class="tile" id="${id}"><div class="label">${label}</div><div class="value">${value}<span class="unit">${unit}</span></div></div>`;
  }
  const num = v => v == null ? "–" : Charts.fmt(v);

  async function loadTiles(site) {
    const rows = await App.api(`/api/v1/sites/${site}/kpis?period=day`);
    if (stale(site)) return;
    const t = rows[rows.length - 1] || {};
    $("#firm-tiles").innerHTML = tile("Energy used today", num(t.consumption_kwh), "kWh", "firm-energy")
      + tile("Cost today", t.cost_eur == null ? "–" : t.cost_eur.toFixed(2), "€", "firm-cost")
      + tile("Self-sufficiency today", t.self_sufficiency == null ? "–" : Math.round(t.self_sufficiency * 100), "%", "firm-selfsuff")
      + tile("PV today", num(t.pv_kwh), "kWh", "firm-pv") + tile("Grid import today", num(t.import_kwh), "kWh", "firm-import");
  }

  // What the plan schedules for an asset, and which measured quantity shows the same thing.
  function schedules(asset, config) {
    const tank = (config.tanks || []).find(t => (t.asset || t.id) === asset.asset) || {};
    if (asset.kind === "battery") return [
      { part: "power", title: "power (kW, + discharges)", unit: "kW", planned: asset.power_kw, device: (config.batteries.find(b => (b.asset || b.id) === asset.asset) || {}).device, quantity: "battery_power_w", scale: 1e-3 },
      { part: "soc", title: "state of charge (%)", unit: "%", planned: asset.level_pct, device: (config.batteries.find(b => (b.asset || b.id) === asset.asset) || {}).device, quantity: "battery_soc_pct", scale: 1 }];
    if (asset.kind === "flexible_load") return [
      { part: "power", title: "batch power (kW)", unit: "kW", planned: asset.power_kw, quantity: "load_power_setpoint_w", scale: 1e-3 }];
    return [
      { part: "level", title: "tank level (%)", unit: "%", planned: asset.level_pct, device: tank.device, quantity: "tank_level_pct", scale: 1 },
      { part: "pump", title: "pump power (kW)", unit: "kW", planned: asset.power_kw, quantity: "pump_flow_setpoint_m3h", scale: tank.pump_kw_per_m3h || 1 }];
  }

  async function loadSchedules(site) {
    const root = $("#firm-schedules");
    const plan = await App.api(`/api/v1/sites/${site}/plan`);
    if (stale(site)) return;
    const assets = plan ? (plan.document.assets || []).filter(a => a.site === site) : [];
    if (!assets.length) { root.innerHTML = `<div class="card"><p class="muted">${plan ? "No controllable asset of this firm is in the plan." : "No plan yet."}</p></div>`; return; }
    const d = plan.document, step = (d.step_minutes || 15) * 60e3, now = App.now();
    const from = now - 12 * HOUR;  // the last twelve hours measured, then what the plan schedules
    const planEnd = d.start_ms + Math.max(...assets.map(a => a.power_kw.length)) * step;
    $("#firm-meta").textContent = `plan ${plan.plan_id} · ${d.status || ""} · made ${App.fmtTime(plan.ts_ms)}`;
    const measured = await App.api(`/api/v1/sites/${site}/history?quantities=battery_power_w,battery_soc_pct,load_power_setpoint_w,tank_level_pct,pump_flow_setpoint_m3h&interval=15m&from=${new Date(from).toISOString()}&to=${new Date(now).toISOString()}`);
    if (stale(site)) return;
    const config = App.sites[site].config;
    const cards = [];
    for (const a of assets) for (const s of schedules(a, config)) cards.push({ a, s, id: `firm-chart-${a.asset}-${s.part}` });
    root.innerHTML = cards.map(c => `<div class="card"><h3>${App.esc(c.a.asset)}: ${c.s.title} <small>next ${Math.round((planEnd - now) / HOUR)} h planned · measured so far</small>
      <button class="secondary csv" data-csv="${c.id}" data-name="${site}-${c.a.asset}-${c.s.part}">CSV</button></h3><svg id="${c.id}" class="chart"></svg></div>`).join("");
    for (const c of cards) {
      const series = [];
      if (c.s.planned) series.push({ label: "planned", color: "#2e86de", kind: "step", dashed: true, points: c.s.planned.map((v, i) => [d.start_ms + i * step, v]) });
      for (const m of measured) {
        if (c.s.device && m.device !== c.s.device) continue;
        const vals = m.values[c.s.quantity];
        if (!vals || vals.every(v => v == null)) continue;
        series.push({ label: "measured " + m.device, color: "#c0392b", points: m.times_ms.map((t, k) => [t, vals[k] == null ? null : vals[k] * c.s.scale]) });
      }
      Charts.line(document.getElementById(c.id), series, { from, to: planEnd, now, unit: c.s.unit, empty: "no schedule and no readings yet" });
    }
  }

  async function loadControls(site) {
    const controls = await App.api(`/api/v1/sites/${site}/controls`);
    if (stale(site)) return;
    App.firmControls = controls;
    $("#firm-controls").innerHTML = "<tr><th>Asset</th><th>Quantity</th><th>Unit</th><th>Sign</th><th>Local limits</th></tr>" + controls.map(c =>
      `<tr><td>${App.esc(c.asset)}</td><td>${App.esc(c.quantity)}</td><td>${App.esc(c.unit)}</td><td>${App.esc(c.sign)}</td><td>${Charts.fmt(c.min_value)} … ${Charts.fmt(c.max_value)} ${App.esc(c.unit)}</td></tr>`).join("");
    const op = App.me && App.me.role === "operator";
    $("#firm-manual").hidden = !op || !controls.length;
    $("#firm-asset").innerHTML = controls.map(c => `<option value="${App.esc(c.asset)}">${App.esc(c.asset)} (${App.esc(c.unit)})</option>`).join("");
    describe();
  }
  function describe() {
    const c = (App.firmControls || []).find(x => x.asset === $("#firm-asset").value);
    if (!c) return;
    $("#firm-value").min = c.min_value; $("#firm-value").max = c.max_value;
    $("#firm-asset-note").textContent = `${c.quantity} in ${c.unit}, ${c.min_value} to ${c.max_value}; ${c.sign}`;
  }
  $("#firm-asset").onchange = describe;
  $("#firm-manual").addEventListener("submit", async ev => {
    ev.preventDefault();
    const c = (App.firmControls || []).find(x => x.asset === $("#firm-asset").value);
    try {
      const r = await App.api(`/api/v1/sites/${$("#firm-site").value}/setpoints`, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ asset: c.asset, quantity: c.quantity, value: +$("#firm-value").value, valid_minutes: +$("#firm-minutes").value }) });
      $("#firm-result").textContent = `sent ${c.asset} ${r.document.value} ${c.unit} (setpoint ${r.document.id})`;
    } catch (e) { $("#firm-result").textContent = String(e.message || e); }
  });

  async function load() {
    const site = $("#firm-site").value;
    if (!site) return;
    await Promise.all([loadTiles(site), loadSchedules(site), loadControls(site)]);
  }
  $("#firm-site").onchange = () => load().catch(e => { $("#firm-meta").textContent = String(e.message || e); });
  App.views.firm = () => {
    const select = $("#firm-site"), keep = select.value;
    select.innerHTML = (App.district.sites || []).map(s => `<option value="${s.id}">${App.esc(s.name)}</option>`).join("");
    if (keep && [...select.options].some(o => o.value === keep)) select.value = keep;
    load().catch(e => { $("#firm-meta").textContent = String(e.message || e); });
  };
  const previous = App.onPlan;
  App.onPlan = () => { if (previous) previous(); if (!$("#view-firm").hidden) load().catch(() => {}); };
})();
