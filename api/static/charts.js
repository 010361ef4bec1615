// Inline SVG charts: no library, nothing fetched. window.Charts.line(svg, series, opts)
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }
  function niceTicks(min, max, count) {
    if (!(max > min)) { max = min + 1; }
    const span = max - min, step0 = span / count;
    const mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= step0) || step0;
    const ticks = [];
    for (let v = Math.floor(min / step) * step; v < max + step * (1 - 1e-9); v += step) ticks.push(+v.toFixed(10));
    return ticks;
  }
  function fmt(v) {
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
    return (Math.round(v * 10) / 10).toString();
  }
  // Times read in the district's time zone, whatever the browser's is.
  const tz = () => (window.App && window.App.district && window.App.district.timezone) || undefined;
  function timeLabel(ms, spanMs) {
    const d = new Date(ms);
    if (spanMs > 3 * 86400e3) return d.toLocaleDateString([], { day: "2-digit", month: "short", timeZone: tz() });
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: tz() });
  }
  // series: [{label, color, points: [[t_ms, value|null]], kind: "line"|"bar"|"step", dashed}]
  function line(svg, series, opts) {
    opts = opts || {};
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.__series = series;  // for the CSV download
    const W = svg.clientWidth || 600, H = svg.clientHeight || 220;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const m = { l: 64, r: 14, t: 26, b: 24 };
    const pts = series.flatMap(s => s.points.filter(p => p[1] !== null && isFinite(p[1])));
    if (!pts.length) {
      el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7785" }, svg).textContent = opts.empty || "no data for this period";
      return;
    }
    let t0 = opts.from || Math.min(...pts.map(p => p[0])), t1 = opts.to || Math.max(...pts.map(p => p[0]));
    if (t1 <= t0) t1 = t0 + 3600e3;
    let v0 = Math.min(0, ...pts.map(p => p[1])), v1 = Math.max(...pts.map(p => p[1]));
    const ticks = niceTicks(v0, v1, 5); v0 = Math.min(v0, ticks[0]); v1 = Math.max(v1, ticks[ticks.length - 1]);
    const x = t => m.l + (t - t0) / (t1 - t0) * (W - m.l - m.r);
    const y = v => H - m.b - (v - v0) / (v1 - v0 || 1) * (H - m.t - m.b);
    const axis = el("g", { class: "axis" }, svg);
    for (const v of ticks) {
      el("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: "gridline" }, axis);
      el("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end" }, axis).textContent = fmt(v) + (opts.unit ? " " + opts.unit : "");
    }
    const n = Math.max(2, Math.floor((W - m.l - m.r) / 110));
    for (let i = 0; i <= n; i++) {
      const t = t0 + (t1 - t0) * i / n;
      el("text", { x: x(t), y: H - 6, "text-anchor": "middle" }, axis).textContent = timeLabel(t, t1 - t0);
    }
    if (opts.now && opts.now > t0 && opts.now < t1)
      el("line", { x1: x(opts.now), x2: x(opts.now), y1: m.t, y2: H - m.b, stroke: "#999", "stroke-dasharray": "3 3" }, svg);
    const bars = series.filter(s => s.kind === "bar");
    series.forEach((s, si) => {
      const good = s.points.filter(p => p[1] !== null && isFinite(p[1]));
      if (s.kind === "bar") {
        const slot = (opts.barMs || 3600e3) / (t1 - t0) * (W - m.l - m.r);
        const bw = Math.max(1, slot * 0.8 / bars.length), bi = bars.indexOf(s);
        for (const [t, v] of good) el("rect", { x: x(t) + slot * 0.1 + bi * bw, y: Math.min(y(v), y(0)), width: bw,
          height: Math.abs(y(v) - y(0)), fill: s.color, opacity: 0.85 }, svg);
        return;
      }
      let d = "", pen = false, prev = null;
      for (const [t, v] of s.points) {
        if (v === null || !isFinite(v)) { pen = false; continue; }
        if (s.kind === "step" && pen && prev !== null) d += `L${x(t).toFixed(1)},${y(prev).toFixed(1)}`;
        d += (pen ? "L" : "M") + x(t).toFixed(1) + "," + y(v).toFixed(1); pen = true; prev = v;
      }
      el("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dashed ? "6 4" : "",
        "data-series": s.label }, svg);
    });
    const legend = el("g", { class: "legend" }, svg);
    let lx = m.l;
    for (const s of series) {
      el("rect", { x: lx, y: 6, width: 12, height: 4, fill: s.color }, legend);
      const tx = el("text", { x: lx + 16, y: 12 }, legend); tx.textContent = s.label;
      lx += 28 + s.label.length * 7;
    }
  }
  window.Charts = { line, fmt };
})();
