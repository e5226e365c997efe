/* mediamix dashboard charts: small SVG charts drawn from API data, no library.
   Every chart is an <svg role="img"> with a title and a label; the pages put the
   numbers beside it in a table for screen readers and for checking. */
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  // Okabe-Ito: distinguishable with the common colour-vision deficiencies
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#882255", "#999933"];
  const BASELINE = "#9aa3ad";

  function el(tag, attrs, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function svg(width, height, label) {
    const root = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": label });
    el("title", {}, root).textContent = label;
    return root;
  }

  function short(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return (v / 1e3).toFixed(0) + "k";
    if (a >= 10 || a === 0) return v.toFixed(0);
    return v.toFixed(1);
  }

  function ticks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(v);
    return out;
  }

  /* frame: axes, grid and scales for x in [x0, x1], y in [y0, y1] */
  function frame(root, box, xs, ys, opts) {
    const { left, top, width, height } = box;
    const sx = (v) => left + ((v - xs[0]) / (xs[1] - xs[0] || 1)) * width;
    const sy = (v) => top + height - ((v - ys[0]) / (ys[1] - ys[0] || 1)) * height;
    for (const t of ticks(ys[0], ys[1], 4)) {
      el("line", { x1: left, x2: left + width, y1: sy(t), y2: sy(t), stroke: "#e3e6ea" }, root);
      el("text", { x: left - 6, y: sy(t) + 4, "text-anchor": "end" }, root).textContent = short(t);
    }
    el("line", { x1: left, x2: left + width, y1: top + height, y2: top + height, stroke: "#8b939c" }, root);
    if (opts && opts.xTicks) {
      for (const [v, label] of opts.xTicks) {
        el("text", { x: sx(v), y: top + height + 15, "text-anchor": "middle" }, root).textContent = label;
      }
    }
    if (opts && opts.yLabel) {
      el("text", { x: 4, y: top - 6 }, root).textContent = opts.yLabel;
    }
    return { sx, sy };
  }

  function path(points) {
    return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
  }

  function legend(items) {
    const div = document.createElement("div");
    div.className = "legend";
    for (const [name, colour] of items) {
      const s = document.createElement("span");
      s.style.setProperty("--swatch", colour);
      s.textContent = name;
      div.appendChild(s);
    }
    return div;
  }

  /* at most six month labels, fewer on a narrow chart: a label (YYYY-MM) takes about
     60 units, and labels closer than that run into each other on a phone */
  function dateTicks(dates, plotWidth) {
    const n = dates.length;
    const fit = Math.max(2, Math.floor((plotWidth || 600) / 75));
    const every = Math.max(1, Math.ceil(n / Math.min(6, fit)));
    const out = [];
    for (let i = 0; i < n; i += every) out.push([i, dates[i].slice(0, 7)]);
    return out;
  }

  /* lines: [{name, values, colour, dash}] over the same dates */
  function lines(dates, series, label, width) {
    const W = width || 640, H = 260;
    const root = svg(W, H, label);
    const all = series.flatMap((s) => s.values).filter(Number.isFinite);
    const lo = Math.min(0, ...all), hi = Math.max(...all) * 1.05;
    const box = { left: 52, top: 14, width: W - 66, height: H - 44 };
    const { sx, sy } = frame(root, box, [0, dates.length - 1], [lo, hi], { xTicks: dateTicks(dates, box.width) });
    for (const s of series) {
      el("path", { d: path(s.values.map((v, i) => [sx(i), sy(v)])), fill: "none", stroke: s.colour,
        "stroke-width": 2, "stroke-dasharray": s.dash || "none" }, root);
    }
    return root;
  }

  /* stacked areas: layers [{name, values, colour}] stacked from the bottom */
  function stacked(dates, layers, label, width) {
    const W = width || 640, H = 260;
    const root = svg(W, H, label);
    const n = dates.length;
    const pos = new Array(n).fill(0), neg = new Array(n).fill(0);
    const bands = layers.map((layer) => {
      const lower = [], upper = [];
      layer.values.forEach((v, i) => {
        const base = v >= 0 ? pos[i] : neg[i];
        lower.push(base); upper.push(base + v);
        if (v >= 0) pos[i] += v; else neg[i] += v;
      });
      return { layer, lower, upper };
    });
    const lo = Math.min(0, ...neg), hi = Math.max(...pos) * 1.05;
    const box = { left: 52, top: 14, width: W - 66, height: H - 44 };
    const { sx, sy } = frame(root, box, [0, n - 1], [lo, hi], { xTicks: dateTicks(dates, box.width) });
    for (const b of bands) {
      const top = b.upper.map((v, i) => [sx(i), sy(v)]);
      const bottom = b.lower.map((v, i) => [sx(i), sy(v)]).reverse();
      el("path", { d: path(top.concat(bottom)) + "Z", fill: b.layer.colour, "fill-opacity": 0.85, stroke: "none" }, root);
    }
    return root;
  }

  /* one channel's response curve with its band and markers (current, plan) */
  function curve(rows, opts) {
    const W = opts.width || 320, H = 210;
    const root = svg(W, H, opts.label);
    const xs = rows.map((r) => r.spend), ys = rows.map((r) => r.response);
    const up = rows.map((r) => (r.upper == null ? r.response : r.upper));
    const low = rows.map((r) => (r.lower == null ? r.response : r.lower));
    const hi = Math.max(...up, ...ys) * 1.05 || 1;
    const box = { left: 46, top: 24, width: W - 58, height: H - 54 };
    const xmax = Math.max(...xs) || 1;
    const xt = ticks(0, xmax, 3).map((v) => [v, short(v)]);
    const { sx, sy } = frame(root, box, [0, xmax], [Math.min(0, ...low), hi], { xTicks: xt });
    el("text", { x: box.left, y: 14, class: "title" }, root).textContent = opts.title;
    if (rows.some((r) => r.upper != null)) {
      const topLine = rows.map((r, i) => [sx(xs[i]), sy(up[i])]);
      const bottom = rows.map((r, i) => [sx(xs[i]), sy(low[i])]).reverse();
      el("path", { d: path(topLine.concat(bottom)) + "Z", fill: opts.colour, "fill-opacity": 0.18 }, root);
    }
    el("path", { d: path(rows.map((r, i) => [sx(xs[i]), sy(ys[i])])), fill: "none", stroke: opts.colour, "stroke-width": 2 }, root);
    for (const m of opts.markers || []) {
      el("line", { x1: sx(m.spend), x2: sx(m.spend), y1: box.top, y2: box.top + box.height, stroke: m.colour,
        "stroke-dasharray": m.dash || "4 3", "stroke-width": 1.5 }, root);
      el("text", { x: sx(m.spend) + 3, y: box.top + 10 + (m.offset || 0), fill: m.colour }, root).textContent = m.label;
    }
    return root;
  }

  /* points with whiskers: items [{name, value, lower, upper, colour}] on one axis */
  function intervals(items, label, unit, width) {
    const W = width || 640, rowH = 30, H = 34 + items.length * rowH;
    const root = svg(W, H, label);
    const vals = items.flatMap((i) => [i.value, i.lower, i.upper]).filter(Number.isFinite);
    const lo = Math.min(0, ...vals), hi = Math.max(...vals) * 1.08 || 1;
    const left = Math.min(160, W * 0.3), span = W - left - 20;
    const sx = (v) => left + ((v - lo) / (hi - lo)) * span;
    for (const t of ticks(lo, hi, 5)) {
      el("line", { x1: sx(t), x2: sx(t), y1: 8, y2: H - 22, stroke: "#e3e6ea" }, root);
      el("text", { x: sx(t), y: H - 8, "text-anchor": "middle" }, root).textContent = short(t) + (unit || "");
    }
    items.forEach((it, k) => {
      const y = 20 + k * rowH;
      const max = Math.floor(left / 7.5);
      el("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "title" }, root).textContent =
        it.name.length > max ? it.name.slice(0, max - 1) + "…" : it.name;
      if (Number.isFinite(it.lower) && Number.isFinite(it.upper)) {
        el("line", { x1: sx(it.lower), x2: sx(it.upper), y1: y, y2: y, stroke: it.colour, "stroke-width": 3 }, root);
      }
      if (Number.isFinite(it.value)) {
        el("circle", { cx: sx(it.value), cy: y, r: 5.5, fill: it.colour, stroke: "#fff", "stroke-width": 1.5 }, root);
      }
    });
    return root;
  }

  /* grouped bars: groups [{name, values: [..]}], series names and colours */
  function bars(groups, series, label, width) {
    const W = width || 640, H = 260;
    const root = svg(W, H, label);
    const all = groups.flatMap((g) => g.values).filter(Number.isFinite);
    const lo = Math.min(0, ...all), hi = Math.max(...all) * 1.08 || 1;
    const box = { left: 52, top: 14, width: W - 66, height: H - 44 };
    const n = groups.length;
    const { sy } = frame(root, box, [0, 1], [lo, hi], {});
    const slot = box.width / n, bw = Math.max(2, (slot * 0.8) / series.length);
    groups.forEach((g, i) => {
      const x0 = box.left + i * slot + slot * 0.1;
      g.values.forEach((v, j) => {
        if (!Number.isFinite(v)) return;
        const y = sy(Math.max(v, 0)), h = Math.abs(sy(v) - sy(0));
        el("rect", { x: x0 + j * bw, y, width: Math.max(bw - 1, 1), height: Math.max(h, 0.5), fill: series[j][1],
          stroke: "#1b1f24", "stroke-width": 0.4 }, root);
      });
      el("text", { x: box.left + i * slot + slot / 2, y: box.top + box.height + 15, "text-anchor": "middle" }, root)
        .textContent = g.name.length > 14 ? g.name.slice(0, 13) + "…" : g.name;
    });
    return root;
  }

  return { PALETTE, BASELINE, lines, stacked, curve, intervals, bars, legend, short };
})();
window.Charts = Charts;
