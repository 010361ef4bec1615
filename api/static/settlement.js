// The firm's statement page: a month's energy, the incentive by the statute, where the money came from;
// CSV and PDF downloads (fetched with the viewer's token, saved through a blob link).
(function () {
  "use strict";
  const App = window.App, $ = s => document.querySelector(s);
  const eur = v => v == null ? "–" : v.toFixed(2) + " EUR";
  const kwh = v => v == null ? "–" : (Math.round(v * 10) / 10).toLocaleString() + " kWh";
  const thisMonth = () => new Date(App.now()).toLocaleDateString("sv-SE", { timeZone: App.tz() }).slice(0, 7);

  function shell() {
    const sites = (App.district.sites || []).filter(s => App.sites[s.id]);
    const keep = $("#statement-month") ? $("#statement-month").value : thisMonth();
    $("#statement-root").innerHTML = `<div class="toolbar">
        <label>Firm <select id="statement-site">${sites.map(s => `<option value="${s.id}">${App.esc(s.name)}</option>`).join("")}</select></label>
        <label>Month <input id="statement-month" type="month" value="${App.esc(keep)}"></label>
        <button id="statement-load">Show</button>
        <button id="statement-csv">CSV</button><button id="statement-pdf">PDF</button>
        <span id="statement-note" class="muted"></span></div>
      <div id="statement-tiles" class="tiles"></div>
      <div class="grid2"><div class="card"><h3>Where the money came from</h3><svg id="statement-chart" class="chart"></svg></div>
      <div class="card"><h3>The incentive: your configuration and the district</h3><table id="statement-district"></table></div></div>
      <div class="card"><h3>Days</h3><table id="statement-days"></table></div>`;
    $("#statement-load").onclick = load;
    $("#statement-site").onchange = load;
    $("#statement-csv").onclick = () => download("csv");
    $("#statement-pdf").onclick = () => download("pdf");
  }

  const query = () => `/api/v1/sites/${encodeURIComponent($("#statement-site").value)}/statement`;
  const month = () => encodeURIComponent($("#statement-month").value);

  async function download(kind) {
    const r = await fetch(`${query()}.${kind}?month=${month()}`, { headers: { Authorization: "Bearer " + App.token } });
    if (!r.ok) { $("#statement-note").textContent = `could not download: ${r.statusText}`; return; }
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `statement-${$("#statement-site").value}-${$("#statement-month").value}.${kind}`;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  function bars(svg, items) {
    const W = 520, H = 30 * items.length + 10, max = Math.max(1, ...items.map(([, v]) => Math.abs(v)));
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.innerHTML = items.map(([label, v, color], i) => {
      const w = Math.abs(v) / max * (W - 260), y = 8 + i * 30;
      return `<text x="0" y="${y + 14}" font-size="12">${App.esc(label)}</text>` +
        `<rect x="150" y="${y}" width="${w.toFixed(1)}" height="18" fill="${color}" data-part="${App.esc(label)}"></rect>` +
        `<text x="${(156 + w).toFixed(1)}" y="${y + 14}" font-size="12">${eur(v)}</text>`;
    }).join("");
  }

  let asked = 0;
  async function load() {
    const note = $("#statement-note"), mine = ++asked;
    note.textContent = "";
    let st;
    try { st = await App.api(`${query()}?month=${month()}`); }
    catch (e) { if (mine === asked) note.textContent = String(e.message || e); return; }
    // Answers can arrive out of order (the page's first month, then the one picked): show the last asked.
    if (mine !== asked) return;
    const t = st.total, c = st.configuration_total, d = st.district_total;
    note.textContent = st.savings ? `savings: the coordinator's plans against both baselines on ${st.savings.days} day(s), on each day's forecast` : "";
    $("#statement-tiles").innerHTML = [
      ["Incentive received", eur(t.incentive_eur), "statement-incentive"], ["Energy cost", eur(t.energy_cost_eur), "statement-cost"],
      ["Net cost", eur(t.net_cost_eur), "statement-net"], ["Shared batteries", eur(t.shared_assets_eur), "statement-assets"], ["Shared from your plants", kwh(t.shared_fed_kwh), "statement-shared"],
      ["Energy drawn", kwh(t.drawn_kwh), "statement-drawn"], ["Energy fed in", kwh(t.fed_kwh), "statement-fed"],
    ].concat(st.savings ? [
      ["Saved vs each firm alone", eur(st.savings.savings_vs_fair_baseline_eur), "statement-saved-fair"],
      ["Saved vs doing nothing", eur(st.savings.savings_vs_do_nothing_eur), "statement-saved-nothing"],
    ] : []).map(([l, v, id]) => `<div class="tile" id="${id}"><div class="label">${l}</div><div class="value">${v}</div></div>`).join("");
    bars($("#statement-chart"), [["Producer part", t.producer_eur, "#1e9e61"], ["Consumer part", t.consumer_eur, "#2e86de"],
      ["Social part", t.social_eur, "#8e6c3a"], ["Energy cost", t.energy_cost_eur, "#b5523b"]]);
    const row = (label, f) => `<tr><td>${label}</td><td>${f(c)}</td><td>${f(d)}</td></tr>`;
    $("#statement-district").innerHTML = `<tr><th></th><th>Configuration ${App.esc(st.configuration)}</th><th>District</th></tr>` +
      row("Shared energy", r => kwh(r.shared_kwh)) + row("Premium (TIP)", r => eur(r.premium_eur)) +
      row("ARERA valorisation", r => eur(r.valorisation_eur)) + row("Incentive earned", r => eur(r.incentive_eur)) +
      row("Community fund", r => eur(r.fund_eur)) + row("Social purposes", r => eur(r.social_fund_eur));
    $("#statement-days").innerHTML = "<tr><th>Day</th><th>Drawn</th><th>Fed in</th><th>Shared (your plants)</th><th>Incentive</th><th>Energy cost</th></tr>" +
      st.days.filter(r => r.drawn_kwh || r.fed_kwh).map(r => `<tr><td>${new Date(r.period_start_ms).toLocaleDateString([], { timeZone: App.tz() })}</td>` +
        `<td>${kwh(r.drawn_kwh)}</td><td>${kwh(r.fed_kwh)}</td><td>${kwh(r.shared_fed_kwh)}</td><td>${eur(r.incentive_eur)}</td><td>${eur(r.energy_cost_eur)}</td></tr>`).join("");
  }

  App.views.statement = () => { if (App.isPublic()) return; shell(); load(); };
})();
