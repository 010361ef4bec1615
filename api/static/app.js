// The dashboard core: login, API calls, the live stream and the overview.
(function () {
  "use strict";
  const $ = s => document.querySelector(s);
  const App = window.App = { token: sessionStorage.getItem("nzd.token"), me: null, district: null,
    sites: {}, latest: {}, views: {}, source: null };

  App.api = async function (path, init) {
    init = init || {};
    const headers = Object.assign({ Accept: "application/json" }, init.headers || {});
    if (App.token) headers.Authorization = "Bearer " + App.token;
    const r = await fetch(path, Object.assign({}, init, { headers }));
    if (r.status === 401 && App.token) { App.logout(); throw new Error("session expired; log in again"); }
    const body = r.status === 204 ? null : await r.json();
    if (!r.ok) throw new Error(body && body.detail ? body.detail : r.statusText);
    return body;
  };
  App.kw = w => (w === null || w === undefined || !isFinite(w)) ? "–" : (w / 1000).toFixed(1) + " kW";
  // District time: simulated in the demo. Read from the API at start, then run at its speed.
  App.clock = { baseMs: null, realMs: 0, speed: 1 };
  App.now = () => App.clock.baseMs === null ? Date.now()
    : App.clock.baseMs + (Date.now() - App.clock.realMs) * App.clock.speed;
  App.syncClock = async function () {
    const c = await App.api("/api/v1/clock");
    App.clock = { baseMs: c.now_ms, realMs: Date.now(), speed: c.speed };
  };
  App.tz = () => (App.district && App.district.timezone) || undefined;
  App.fmtTime = ms => ms ? new Date(ms).toLocaleString([], { dateStyle: "short", timeStyle: "short", timeZone: App.tz() }) : "–";
  App.esc = s => String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
    c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  App.isPublic = () => !App.me || App.me.role === "public";

  // ---- CSV downloads: any chart (its series) or table, from a button with data-csv="<element id>" ----
  // ISO 8601 local time of the district with its UTC offset, e.g. 2026-06-17T07:00:00+02:00.
  App.isoLocal = function (ms) {
    const local = new Date(ms).toLocaleString("sv-SE", { timeZone: App.tz() }).replace(" ", "T");
    const off = Math.round((Date.parse(local + "Z") - Math.floor(ms / 1000) * 1000) / 60000);
    const a = Math.abs(off);
    return local + (off < 0 ? "-" : "+") + String(Math.floor(a / 60)).padStart(2, "0") + ":" + String(a % 60).padStart(2, "0");
  };
  const cell = v => { const t = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t; };
  App.csvOf = function (el) {
    if (el.__series) {
      const times = [...new Set(el.__series.flatMap(s => s.points.map(p => p[0])))].sort((a, b) => a - b);
      const maps = el.__series.map(s => new Map(s.points.map(p => [p[0], p[1]])));
      return [["time", ...el.__series.map(s => s.label)].map(cell).join(","),
        ...times.map(t => [App.isoLocal(t), ...maps.map(m => m.has(t) && m.get(t) !== null && isFinite(m.get(t)) ? +m.get(t).toFixed(4) : "")].map(cell).join(","))].join("\n") + "\n";
    }
    return [...el.querySelectorAll("tr")].map(tr => [...tr.children].filter(c => !c.querySelector("button"))
      .map(c => cell(c.textContent.trim())).join(",")).join("\n") + "\n";
  };
  document.addEventListener("click", ev => {
    const b = ev.target.closest("[data-csv]"); if (!b) return;
    ev.preventDefault();
    const el = document.getElementById(b.dataset.csv); if (!el) return;
    const url = URL.createObjectURL(new Blob([App.csvOf(el)], { type: "text/csv" }));
    const a = document.createElement("a");
    a.href = url; a.download = (b.dataset.name || b.dataset.csv) + ".csv";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  // ---- login ---------------------------------------------------------------------------
  $("#login-button").onclick = () => { $("#login-error").textContent = ""; $("#login-dialog").showModal(); };
  $("#login-cancel").onclick = () => $("#login-dialog").close();
  $("#logout-button").onclick = () => App.logout();
  $("#login-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const r = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: $("#login-username").value, password: $("#login-password").value }) });
      const body = await r.json();
      if (!r.ok) { $("#login-error").textContent = body.detail || "login failed"; return; }
      App.token = body.access_token; sessionStorage.setItem("nzd.token", App.token);
      $("#login-dialog").close(); await App.start();
    } catch (e) { $("#login-error").textContent = String(e.message || e); }
  });
  App.logout = function () { App.token = null; sessionStorage.removeItem("nzd.token"); App.start(); };

  // ---- tabs ----------------------------------------------------------------------------
  // A tab picked while the app is still starting (after a login) stays picked: start ends on it.
  let picked = null;
  document.querySelectorAll("#tabs button").forEach(b => b.onclick = () => { picked = b.dataset.view; App.show(picked); });
  App.show = function (view) {
    document.querySelectorAll("#tabs button").forEach(b => b.classList.toggle("active", b.dataset.view === view));
    document.querySelectorAll(".view").forEach(v => v.hidden = v.id !== "view-" + view);
    if (App.views[view]) App.views[view]();
  };

  // ---- flows (same rules as api/flows.py) ------------------------------------------------
  function devicesFor(site, role) {
    const s = new Set((site.meters || []).filter(m => m.role === role).map(m => m.device));
    if (role === "pv") (site.pv || []).forEach(p => p.device && s.add(p.device));
    if (role === "battery") (site.batteries || []).forEach(b => b.device && s.add(b.device));
    return s;
  }
  App.siteFlows = function (site, devices) {
    const f = { grid_w: null, pv_w: null, battery_w: null, load_w: null, water_intake_m3h: null, battery_soc_pct: null };
    const add = (k, v) => { if (v !== undefined && v !== null) f[k] = (f[k] || 0) + v; };
    const intakes = new Set(((site.water || {}).meters || []).filter(m => m.role === "intake").map(m => m.device));
    for (const [dev, r] of Object.entries(devices)) {
      const v = r.values;
      if (devicesFor(site, "grid").has(dev)) add("grid_w", v.active_power_w);
      if (devicesFor(site, "pv").has(dev)) { const p = v.pv_power_w ?? v.active_power_w; if (p !== undefined) add("pv_w", Math.abs(p)); }
      if (devicesFor(site, "battery").has(dev)) { add("battery_w", v.battery_power_w); if (v.battery_soc_pct !== undefined) f.battery_soc_pct = v.battery_soc_pct; }
      if (intakes.has(dev)) add("water_intake_m3h", v.water_flow_m3h);
    }
    if (f.grid_w !== null) f.load_w = f.grid_w + (f.pv_w || 0) + (f.battery_w || 0);
    return f;
  };

  // The nodes a site has: grid and loads always; PV, battery and water only with their devices.
  App.siteNodes = site => new Set(["grid", "load",
    ...(devicesFor(site, "pv").size ? ["pv"] : []), ...(devicesFor(site, "battery").size ? ["battery"] : []),
    ...(((site.water || {}).meters || []).some(m => m.role === "intake") ? ["water"] : [])]);
  // An energy-flow diagram: grid, PV, battery, loads and water around the site (``only``: those nodes).
  App.flowSvg = function (id, f, title, only) {
    const W = 420, H = 230, cx = W / 2, cy = H / 2;
    const nodes = [
      { k: "pv", label: "PV", x: cx, y: 28, v: f.pv_w, color: "var(--pv)", into: true },
      { k: "grid", label: "Grid", x: 60, y: cy, v: f.grid_w, color: "var(--grid)", into: true },
      { k: "load", label: "Loads", x: W - 60, y: cy, v: f.load_w, color: "var(--load)", into: false },
      { k: "battery", label: "Battery" + (f.battery_soc_pct != null ? ` ${Math.round(f.battery_soc_pct)}%` : ""), x: 95, y: H - 28, v: f.battery_w, color: "var(--bat)", into: true },
      { k: "water", label: "Water in", x: W - 95, y: H - 28, v: f.water_intake_m3h, color: "var(--water)", into: true, water: true },
    ].filter(n => !only || only.has(n.k));
    let s = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${App.esc(title)} energy flow">`;
    for (const n of nodes) {
      const has = n.v !== null && n.v !== undefined && Math.abs(n.v) > (n.water ? 0.01 : 50);
      const forward = n.into ? n.v > 0 : true;
      const [x1, y1, x2, y2] = forward ? [n.x, n.y, cx, cy] : [cx, cy, n.x, n.y];
      s += `<path class="edge ${has ? "active" : "idle"}" stroke="${n.color}" d="M${x1},${y1} L${x2},${y2}"/>`;
    }
    s += `<circle cx="${cx}" cy="${cy}" r="30" fill="#15202b"/><text x="${cx}" y="${cy + 4}" text-anchor="middle" style="fill:#fff;font-weight:600;font-size:11px">${App.esc(title.split(" ")[0]).slice(0, 9)}</text>`;
    for (const n of nodes) {
      const val = n.water ? (n.v == null ? "–" : n.v.toFixed(1) + " m³/h") : App.kw(n.v);
      s += `<rect x="${n.x - 38}" y="${n.y - 14}" width="76" height="28" rx="14" fill="#fff" stroke="${n.color}" stroke-width="2.5"/>`;
      s += `<text x="${n.x}" y="${n.y + 4}" text-anchor="middle" class="val" id="flow-${id}-${n.k}">${val}</text>`;
      s += `<text x="${n.x}" y="${n.y + (n.y > cy ? -20 : 30)}" text-anchor="middle">${n.label}</text>`;
    }
    return s + "</svg>";
  };

  // ---- overview --------------------------------------------------------------------------
  async function loadTiles() {
    const [day, hours] = await Promise.all([App.api("/api/v1/district/kpis?period=day"), App.api("/api/v1/district/kpis?period=hour")]);
    const t = day[day.length - 1] || {};
    const pct = v => v == null ? "–" : Math.round(v * 100);
    const num = v => v == null ? "–" : Charts.fmt(v);
    const tiles = [["Shared energy today", num(t.shared_kwh), "kWh", "tile-shared"], ["Self-sufficiency today (with sharing)", pct(t.self_sufficiency_with_sharing), "%", "tile-selfsuff"],
      ["PV today", num(t.pv_kwh), "kWh"], ["Grid import today", num(t.import_kwh), "kWh"],
      ["Incentive today", t.incentive_eur == null ? "–" : t.incentive_eur.toFixed(2), "€"], ["CO₂ today", num(t.co2_kg), "kg"]];
    $("#tiles").innerHTML = tiles.map(([l, v, u, id]) => `<div class="tile" ${id ? `id="${id}"` : ""}><div class="label">${l}</div><div class="value">${v}<span class="unit">${u}</span></div></div>`).join("");
    // Periods are the district's local hours; the first one starts at its local midnight.
    const midnight = hours.length ? hours[0].period_start_ms : new Date(App.now()).setHours(0, 0, 0, 0);
    Charts.line($("#today-chart"), [
      { label: "consumption kWh", color: "#6c5ce7", kind: "bar", points: hours.map(r => [r.period_start_ms, r.consumption_kwh]) },
      { label: "PV kWh", color: "#e6a700", kind: "bar", points: hours.map(r => [r.period_start_ms, r.pv_kwh]) },
      { label: "shared kWh", color: "#1e9e61", kind: "bar", points: hours.map(r => [r.period_start_ms, r.shared_kwh]) },
    ], { from: midnight, to: midnight + 86400e3, barMs: 3600e3 });
  }
  function renderDistrictFlow(f) { $("#district-flow").innerHTML = `<div class="flow">${App.flowSvg("district", f, "District")}</div>`; }

  // How a quantity reads: its name without the unit, and the unit a person reads it in (W as kW).
  const UNITS = [["_w", "kW", 1e-3], ["_pct", "%", 1], ["_m3h", "m³/h", 1], ["_m3", "m³", 1], ["_bar", "bar", 1],
    ["_m", "m", 1], ["_v", "V", 1], ["_a", "A", 1], ["_hz", "Hz", 1]];
  function readable(q) {
    const u = UNITS.find(([suffix]) => q.endsWith(suffix));
    return u ? [q, q.slice(0, -u[0].length).replace(/_/g, " "), u[1], u[2]] : [q, q.replace(/_/g, " "), "", 1];
  }
  function deviceRows(siteId) {
    const devs = App.latest[siteId] || {};
    const headlines = App.sites[siteId].headline || {};
    return Object.entries(devs).sort().map(([dev, r]) => {
      const flags = r.quality || {};
      // the device's profile names what it is read by (gateway status); else its first raw values
      const head = (headlines[dev] || []).filter(q => q in r.values);
      const shown = (head.length ? head : Object.keys(r.values).filter(q => !q.endsWith("_wh") && q !== "seq").slice(0, 3)).map(readable);
      const vals = shown.slice(0, 3)
        .map(([q, label, unit, scale]) => `<span id="val-${siteId}-${dev}-${q}"${flags[q] ? ` class="flagged" title="not good: ${App.esc(flags[q])}"` : ""}>${label}: <b>${Charts.fmt(r.values[q] * scale)}${unit ? " " + unit : ""}</b>${flags[q] ? " ⚠" : ""}</span>`).join(" · ")
        + Object.keys(flags).filter(q => !(q in r.values)).map(q => ` · <span class="flagged">${q.replace(/_/g, " ")}: ${App.esc(flags[q])}</span>`).join("");
      const st = (App.sites[siteId].deviceState || {})[dev];
      const dot = st === undefined ? "unk" : st ? "ok" : "bad";
      return `<tr id="dev-${siteId}-${dev}"><td><span class="dot ${dot}"></span>${App.esc(dev)}</td><td>${vals}</td>${r.old  // silent for longer than the API's lookback: say since when
        ? `<td class="flagged" title="no reading for longer than the lookback">silent since ${new Date(r.ts).toLocaleString([], { timeZone: App.tz() })}</td></tr>`
        : `<td class="muted">${new Date(r.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: App.tz() })}</td></tr>`}`;
    }).join("");
  }
  App.renderSite = function (siteId, flashDevice) {
    const site = App.sites[siteId]; if (!site) return;
    const card = document.getElementById("site-" + siteId); if (!card) return;
    const f = App.siteFlows(site.config, App.latest[siteId] || {});
    card.querySelector(".flow").innerHTML = App.flowSvg(siteId, f, site.config.name, App.siteNodes(site.config));
    card.querySelector("tbody").innerHTML = deviceRows(siteId);
    card.querySelector(".gateways").innerHTML = "Gateways: " + (Object.values(site.gateways).map(g =>
      `<span class="dot ${g.state === "online" ? "ok" : "bad"}"></span>${App.esc(g.gateway)}`).join(" ") || "no gateway status yet");
    if (flashDevice) { const row = document.getElementById(`dev-${siteId}-${flashDevice}`); if (row) row.classList.add("flash"); }
  };
  async function loadSites() {
    const root = $("#site-cards"); root.innerHTML = "";
    for (const s of App.district.sites) {
      const [config, latest, status] = await Promise.all([App.api(`/api/v1/sites/${s.id}`), App.api(`/api/v1/sites/${s.id}/latest`),
        App.api(`/api/v1/sites/${s.id}/status`)]);
      const deviceState = {}, headline = {};
      for (const g of status.gateways) for (const [d, st] of Object.entries(g.status.devices || {})) {
        deviceState[d] = g.status.state === "online" && st.online;
        if (st.headline) headline[d] = st.headline;
      }
      const gateways = {};
      for (const g of status.gateways) gateways[g.status.gateway] = g.status;
      App.sites[s.id] = { config, deviceState, headline, gateways };
      App.latest[s.id] = {};
      for (const r of latest) App.latest[s.id][r.device] = { ts: r.ts_ms, values: r.values, quality: r.quality || {}, old: !!r.old };
      root.insertAdjacentHTML("beforeend", `<div class="card" id="site-${s.id}"><div class="site-head"><h3>${App.esc(s.name)}</h3><span class="muted">${App.esc(s.activity)}</span></div>
        <div class="site-kpis muted" id="kpis-${s.id}"></div><div class="flow"></div><div class="muted gateways"></div><table class="devices"><thead><tr><th>Device</th><th>Now</th><th>Read at</th></tr></thead><tbody></tbody></table></div>`);
      App.renderSite(s.id);
      App.api(`/api/v1/sites/${s.id}/kpis?period=day`).then(rows => {
        const t = rows[rows.length - 1] || {}, pct = v => v == null ? "–" : Math.round(v * 100) + " %";
        document.getElementById("kpis-" + s.id).innerHTML = `Today: self-sufficiency <b>${pct(t.self_sufficiency)}</b> · ` +
          `import <b>${t.import_kwh == null ? "–" : Charts.fmt(t.import_kwh) + " kWh"}</b> · PV <b>${t.pv_kwh == null ? "–" : Charts.fmt(t.pv_kwh) + " kWh"}</b> · ` +
          `cost <b>${t.cost_eur == null ? "–" : t.cost_eur.toFixed(0) + " €"}</b>` + (App.kpiQuality ? App.kpiQuality(t) : "");
      }).catch(() => {});
    }
  }
  App.views.overview = async function () {
    try {
      await loadTiles();
      renderDistrictFlow(await App.api("/api/v1/district/flows"));
    } catch (e) { console.error(e); }
  };

  // ---- live stream -------------------------------------------------------------------------
  function connectLive() {
    if (App.source) App.source.close();
    const url = "/api/v1/live" + (App.token ? "?access_token=" + encodeURIComponent(App.token) : "");
    const es = App.source = new EventSource(url);
    const state = $("#live-state");
    es.addEventListener("hello", () => { state.className = "live on"; state.textContent = "● live"; });
    es.onerror = () => { state.className = "live off"; state.textContent = "● reconnecting"; };
    es.addEventListener("reading", ev => {
      const m = JSON.parse(ev.data);
      if (!App.latest[m.site]) return;
      const prev = App.latest[m.site][m.device];
      if (prev && m.ts < prev.ts) return;  // a replayed older reading does not roll the view back
      App.latest[m.site][m.device] = { ts: m.ts, values: Object.assign({}, prev ? prev.values : {}, m.values), quality: m.quality || {} };
      App.renderSite(m.site, m.device);
    });
    es.addEventListener("status", ev => {
      const m = JSON.parse(ev.data), s = App.sites[m.site]; if (!s) return;
      for (const [d, st] of Object.entries(m.devices || {})) {
        s.deviceState[d] = m.state === "online" && st.online;
        if (st.headline) s.headline[d] = st.headline;
      }
      s.gateways[m.gateway] = m;
      App.renderSite(m.site);
    });
    es.addEventListener("district", ev => renderDistrictFlow(JSON.parse(ev.data)));
    // The server ends a stream when its token expires: back to the public view, not a reconnect.
    es.addEventListener("expired", () => { es.close(); App.logout(); });
    es.addEventListener("alert", () => App.refreshAlerts && App.refreshAlerts());
    es.addEventListener("plan", () => App.onPlan && App.onPlan());
  }

  App.start = async function () {
    picked = null;
    try { App.me = await App.api("/api/v1/auth/me"); } catch (e) { App.me = null; }
    App.district = await App.api("/api/v1/district");
    await App.syncClock();
    $("#district-name").textContent = App.district.name || App.district.district;
    const pub = App.isPublic();
    $("#user-label").textContent = pub ? "public view" : `${App.me.user} · ${App.me.role.replace("_", " ")}`;
    $("#login-button").hidden = !pub; $("#logout-button").hidden = pub;
    document.querySelectorAll("#tabs [data-auth]").forEach(b => b.hidden = pub);
    App.sites = {}; App.latest = {};
    $("#site-cards").innerHTML = pub ? `<div class="public-note">Public view: district totals only. Each firm's data is visible to its site manager and the district operator.</div>` : "";
    if (!pub) await loadSites();
    connectLive();
    App.show(picked || "overview");
    if (App.afterStart) App.afterStart();
  };
  setInterval(() => { $("#clock").textContent = new Date(App.now()).toLocaleString([], { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: App.tz() }) + (App.tz() ? " " + App.tz() : "") + (App.clock.speed !== 1 ? ` (×${App.clock.speed})` : ""); }, 1000);
  setInterval(() => { if (!$("#view-overview").hidden) loadTiles().catch(() => {}); }, 60000);
  document.addEventListener("DOMContentLoaded", () => App.start());
})();
