/* mediamix dashboard: one page, routed by the URL fragment, every number from the API.
   The key lives in sessionStorage (gone when the tab closes) and goes to the API as
   "Authorization: Bearer KEY"; the page never builds HTML from data (textContent only). */
"use strict";

const KEY_ITEM = "mediamix.key";
const C = window.Charts;
const state = { session: null, polls: [] };

/* ---------------------------------------------------------------- helpers */

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return node;
}

const nf0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const nf2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money = (v) => (v == null || !Number.isFinite(v) ? "–" : nf0.format(v));
const ratio = (v) => (v == null || !Number.isFinite(v) ? "–" : nf2.format(v));
const pct = (v, signed) => {
  if (v == null || !Number.isFinite(v)) return "–";
  const text = (100 * v).toFixed(1);
  if (Number(text) === 0) return "0.0%";
  return (signed && v > 0 ? "+" : "") + text + "%";
};
const range = (iv, f) => (iv && iv[0] != null ? `${f(iv[0])} – ${f(iv[1])}` : "no interval");
const day = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";

function announce(text) { document.getElementById("live").textContent = text; }
function has(scope) { return !!state.session && (state.session.scopes.includes(scope) || state.session.scopes.includes("admin")); }

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status; this.body = body;
  }
}

async function api(path, opts) {
  const o = opts || {};
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY_ITEM) || ""}` };
  let body = o.body;
  if (o.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(o.json); }
  const res = await fetch(path, { method: o.method || (body ? "POST" : "GET"), headers, body });
  if (res.status === 401 && !o.login) { logout("Your key was not accepted; sign in again."); throw new ApiError(401, null); }
  if (o.blob && res.ok) return res.blob();
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === "object" ? data : { message: data });
  return data;
}

function problemList(err) {
  const probs = (err.body && err.body.problems) || [];
  return h("div", { class: "error", role: "alert" }, err.message,
    probs.length ? h("ul", {}, probs.map((p) => h("li", {}, [p.column, p.row].filter((x) => x != null).join(" row ") + ": " + p.message))) : null);
}

function table(head, rows, opts) {
  const numeric = (opts && opts.numeric) || [];
  return h("div", { class: "table-wrap" }, h("table", { class: "stack" },
    opts && opts.caption ? h("caption", { class: "sr-only" }, opts.caption) : null,
    h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 && !(opts && opts.noRowHead))
      ? h("th", { scope: "row" }, c) : h("td", { class: numeric.includes(i) ? "num" : null, "data-label": head[i] }, c)))))));
}

/* chart widths in SVG units close to their size on screen, so text keeps its size */
function fullWidth() { return Math.round(Math.min(1200, Math.max(320, window.innerWidth - 90))); }
function halfWidth() { return window.innerWidth > 900 ? Math.round(Math.min(640, (window.innerWidth - 150) / 2)) : fullWidth(); }
function thirdWidth() { return window.innerWidth > 900 ? 340 : fullWidth(); }

function chartBlock(svg, legendItems, dataTable) {
  return h("figure", { style: "margin:0" }, legendItems ? C.legend(legendItems) : null, svg,
    dataTable ? h("details", {}, h("summary", {}, "Show the numbers"), dataTable) : null);
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function stopPolls() { state.polls.forEach(clearTimeout); state.polls = []; }

/* ---------------------------------------------------------------- shell */

function logout(message) {
  sessionStorage.removeItem(KEY_ITEM);
  state.session = null;
  state.loginMessage = message || null;
  location.hash = "#/login";
}

function renderNav(current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.replaceChildren(); who.replaceChildren();
  if (!state.session) return;
  const links = [["#/models", "Models"], ["#/jobs", "Fit jobs"], ["#/attribution", "Attribution"]];
  for (const [href, text] of links) {
    nav.appendChild(h("a", { href, "aria-current": current === href ? "page" : null }, text));
  }
  who.append(h("span", {}, "Tenant ", h("strong", {}, state.session.tenant)),
    h("button", { type: "button", onclick: () => logout("Signed out.") }, "Sign out"));
}

function page(title, ...children) {
  const main = document.getElementById("main");
  document.title = `${title} · mediamix`;
  main.replaceChildren(h("h1", {}, title), ...children.filter((c) => c !== null && c !== undefined && c !== false));
  return main;
}

function notFound(what) {
  page("Not found", h("div", { class: "card notfound", "data-page": "not-found" },
    h("p", {}, what || "There is nothing at this address."),
    h("p", { class: "muted" }, "An id of another tenant is not found either."),
    h("a", { class: "button", href: "#/models" }, "Back to the models")));
}

async function route() {
  stopPolls();
  const hash = location.hash || "#/models";
  if (!hash.startsWith("#/")) return;  // in-page anchors (skip link)
  const parts = hash.slice(2).split("/").map(decodeURIComponent);
  if (!sessionStorage.getItem(KEY_ITEM) && parts[0] !== "login") { location.hash = "#/login"; return; }
  if (parts[0] !== "login" && !state.session) {
    try { state.session = await api("/v1/session"); } catch (e) { if (e.status !== 401) showLoginError(e); return; }
  }
  renderNav("#/" + parts[0]);
  try {
    if (parts[0] === "login") return loginPage();
    if (parts[0] === "models" && parts.length === 1) return await modelsPage();
    if (parts[0] === "models" && parts.length === 2) return await modelPage(parts[1]);
    if (parts[0] === "models" && parts[2] === "planner") return await plannerPage(parts[1]);
    if (parts[0] === "jobs") return await jobsPage();
    if (parts[0] === "attribution") return await attributionPage();
    notFound();
  } catch (e) {
    if (e.status === 404) return notFound("No model with this id.");
    if (e.status === 401) return;
    page("Something went wrong", problemList(e));
  }
}

function showLoginError(e) {
  logout(e.status === 403 ? "This key lacks the model:read scope the dashboard needs." : e.message);
}

/* ---------------------------------------------------------------- login */

function loginPage() {
  renderNav(null);
  const input = h("input", { id: "key", name: "key", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "key-help" });
  const msg = h("p", { id: "login-msg", role: "status" }, state.loginMessage || "");
  const form = h("form", { class: "card login", "data-page": "login" },
    h("h1", {}, "Sign in"),
    h("div", { class: "field" }, h("label", { for: "key" }, "API key"), input,
      h("span", { id: "key-help", class: "muted" }, "A key from `mediamix keys create`. It is kept in this tab only and sent to the API with every request.")),
    h("button", { type: "submit" }, "Sign in"), msg);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY_ITEM, input.value.trim());
    try {
      state.session = await api("/v1/session", { login: true });
      state.loginMessage = null;
      location.hash = "#/models";
    } catch (e) {
      sessionStorage.removeItem(KEY_ITEM);
      msg.textContent = e.status === 401 ? "This key is unknown or revoked." :
        e.status === 403 ? "This key lacks the model:read scope the dashboard needs." : e.message;
      msg.className = "error";
    }
  });
  const main = document.getElementById("main");
  document.title = "Sign in · mediamix";
  main.replaceChildren(form);
  input.focus();
}

/* ---------------------------------------------------------------- models */

async function modelsPage() {
  const models = await api("/v1/models");
  const active = await api("/v1/jobs?limit=50");
  const running = active.filter((j) => j.state === "queued" || j.state === "running");
  const list = models.length ? table(["Model", "Engine", "Status", "Fitted", "Dataset"],
    models.map((m) => [h("a", { href: `#/models/${m.id}` }, m.id.slice(0, 12)), m.engine,
      h("span", { class: "badge succeeded" }, "ready"), day(m.created_at), m.dataset_id.slice(0, 12)]),
    { caption: "Models of this tenant" }) : h("p", {}, "No model yet: start a fit below, or with the CLI.");
  page("Models",
    h("p", { class: "sub" }, `${models.length} model(s) of tenant ${state.session.tenant}, newest first.`),
    h("section", { class: "card", "aria-labelledby": "models-h", "data-page": "models" },
      h("h2", { id: "models-h" }, "Fitted models"), list),
    running.length ? h("section", { class: "card" }, h("h2", {}, "Fits in progress"),
      h("p", {}, `${running.length} job(s) running or queued. `, h("a", { href: "#/jobs" }, "Follow them"))) : null,
    has("model:train") && has("data:read") ? await fitForm() : null);
}

async function fitForm() {
  let datasets = [];
  try { datasets = await api("/v1/datasets"); } catch (e) { return null; }
  if (!datasets.length) return h("section", { class: "card" }, h("h2", {}, "Start a fit"), h("p", {}, "Upload a dataset through the API first."));
  const ds = h("select", { id: "fit-dataset" }, datasets.map((d) => h("option", { value: d.id },
    `${d.data_file} · ${d.n_periods} periods · ${d.channels.join(", ")}`)));
  const engine = h("select", { id: "fit-engine" }, h("option", { value: "ridge" }, "ridge (seconds)"), h("option", { value: "bayes" }, "bayes (minutes)"));
  const out = h("div", { role: "status" });
  const form = h("form", { class: "card" }, h("h2", {}, "Start a fit"),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "fit-dataset" }, "Dataset"), ds),
      h("div", { class: "field" }, h("label", { for: "fit-engine" }, "Engine"), engine),
      h("div", { class: "field" }, h("button", { type: "submit" }, "Fit"))), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const job = await api("/v1/models", { json: { dataset_id: ds.value, engine: engine.value } });
      location.hash = `#/jobs`;
      announce(`Fit job ${job.job_id} queued.`);
    } catch (e) { out.replaceChildren(problemList(e)); }
  });
  return form;
}

/* ---------------------------------------------------------------- jobs */

async function jobsPage() {
  const body = h("div", { "data-page": "jobs" });
  page("Fit jobs", h("p", { class: "sub" }, "Progress is the same as the CLI's bar; the page follows running jobs."), body);
  const draw = async () => {
    let jobs;
    try { jobs = await api("/v1/jobs?limit=100"); } catch (e) { body.replaceChildren(problemList(e)); return; }
    const rows = jobs.map((j) => [
      j.id.slice(0, 12), j.kind, h("span", { class: `badge ${j.state}` }, j.state),
      h("span", {}, h("progress", { max: 1, value: j.progress, "aria-label": `progress of job ${j.id.slice(0, 12)}` }), " ", `${Math.round(100 * j.progress)}%`),
      j.error ? h("span", { class: "error" }, j.error.message || "failed") : (j.message || ""),
      j.result && j.result.model_id ? h("a", { href: `#/models/${j.result.model_id}` }, "Open model") : "",
    ]);
    body.replaceChildren(h("section", { class: "card" }, jobs.length ? table(["Job", "Kind", "State", "Progress", "Message", "Result"], rows, { caption: "Jobs" }) : h("p", {}, "No job yet.")));
    if (jobs.some((j) => j.state === "queued" || j.state === "running")) state.polls.push(setTimeout(draw, 1000));
  };
  await draw();
}

/* ---------------------------------------------------------------- model page */

async function modelPage(id) {
  const [record, summary, diag] = await Promise.all([
    api(`/v1/models/${encodeURIComponent(id)}`), api(`/v1/models/${encodeURIComponent(id)}/summary`),
    api(`/v1/models/${encodeURIComponent(id)}/diagnostics`)]);
  const names = Object.keys(summary.channels);
  const colour = (i) => C.PALETTE[i % C.PALETTE.length];
  const m = summary.metrics || {};
  const media = names.reduce((s, n) => s + (summary.channels[n].contribution || 0), 0);
  const spend = names.reduce((s, n) => s + (summary.channels[n].spend || 0), 0);
  const main = page(`Model ${id.slice(0, 12)}`,
    h("p", { class: "sub" }, `${summary.engine} engine · ${summary.kpi} (${summary.kpi_type}) · ${summary.start} to ${summary.end}, ${summary.n_periods} periods · fitted ${day(record.created_at)}`),
    h("div", { class: "actions", style: "margin-bottom:1rem" },
      has("optimize:run") ? h("a", { class: "button", href: `#/models/${id}/planner` }, "Open the scenario planner") : null,
      has("report:read") ? reportButtons(id) : null),
    h("div", { class: "kpis", "data-page": "model" },
      kpi("Paid media contribution", money(media), `${summary.kpi} over the window`),
      kpi("Media ROI", ratio(spend ? media / spend : null), `on ${money(spend)} spend`),
      kpi("R²", ratio(m.r2), "in-sample fit"),
      kpi("NRMSE", ratio(m.nrmse), diag.holdout_nrmse != null ? `holdout ${ratio(diag.holdout_nrmse)}` : "")));
  const roiItems = names.map((n, i) => ({ name: n, value: summary.channels[n].roi,
    lower: (summary.channels[n].roi_interval || [])[0], upper: (summary.channels[n].roi_interval || [])[1], colour: colour(i) }));
  main.append(h("div", { class: "grid2" },
    h("section", { class: "card", "aria-labelledby": "roi-h" }, h("h2", { id: "roi-h" }, "Return by channel"),
      h("p", { class: "muted" }, "ROI (contribution / spend) with its 90% interval, as reported by the model."),
      chartBlock(C.intervals(roiItems, "ROI by channel with 90% intervals", "", window.innerWidth > 900 ? Math.round(halfWidth() * 1.1) : fullWidth()), null, null),
      table(["Channel", "Spend", "Contribution", "Share", "ROI", "90% interval", "mROI"],
        names.map((n) => { const c = summary.channels[n]; return [n, money(c.spend), money(c.contribution), pct(c.contribution_share), ratio(c.roi), range(c.roi_interval, ratio), ratio(c.mroi)]; }),
        { numeric: [1, 2, 3, 4, 5, 6], caption: "Channel results" })),
    diagnosticsCard(diag)));
  const decompCard = h("section", { class: "card", "aria-labelledby": "dec-h" }, h("h2", { id: "dec-h" }, "Decomposition"), h("p", { class: "muted" }, "Loading…"));
  const curvesCard = h("section", { class: "card", "aria-labelledby": "cur-h" }, h("h2", { id: "cur-h" }, "Response curves"), h("p", { class: "muted" }, "Loading…"));
  const compare = h("section", { class: "card", "aria-labelledby": "cmp-h" }, h("h2", { id: "cmp-h" }, "Champion and challenger"), h("p", { class: "muted" }, "Loading…"));
  main.append(decompCard, curvesCard, compare);
  fillCompare(compare, id, summary).catch((e) => compare.append(problemList(e)));
  fillDecomposition(decompCard, id, names, colour).catch((e) => decompCard.append(problemList(e)));
  fillCurves(curvesCard, id, names, colour).catch((e) => curvesCard.append(problemList(e)));
}

function kpi(label, value, note) {
  return h("div", { class: "kpi" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "note" }, note || ""));
}

function reportButtons(id) {
  const out = h("span", { role: "status" });
  const get = (fmt) => async () => {
    out.textContent = "Rendering the report…";
    try {
      download(await api(`/v1/models/${encodeURIComponent(id)}/report?format=${fmt}`, { blob: true }), `mediamix-report-${id}.${fmt}`);
      out.textContent = "Report downloaded.";
    } catch (e) { out.textContent = e.message; }
  };
  return h("span", { class: "actions", style: "margin:0", "data-report": "yes" },
    h("button", { type: "button", class: "secondary", onclick: get("html") }, "Report (HTML)"),
    h("button", { type: "button", class: "secondary", onclick: get("pdf") }, "Report (PDF)"), out);
}

/* the executive report of the model and the plan the optimizer just made (the API renders
   it: the same bytes as `mediamix report MODEL --plan plan.json`) */
function planReportButtons(id, plan) {
  const out = h("span", { role: "status" });
  const get = (fmt) => async () => {
    out.textContent = "Rendering the report…";
    try {
      download(await api(`/v1/models/${encodeURIComponent(id)}/report`, { json: { plan, format: fmt }, blob: true }),
        `mediamix-report-${id}-plan.${fmt}`);
      out.textContent = "Report downloaded.";
    } catch (e) { out.textContent = e.message; }
  };
  return h("p", { class: "actions", "data-plan-report": "yes" },
    h("button", { type: "button", class: "secondary", onclick: get("html") }, "Report on this plan (HTML)"),
    h("button", { type: "button", class: "secondary", onclick: get("pdf") }, "Report on this plan (PDF)"), out);
}

function diagnosticsCard(d) {
  const facts = [["Engine", d.engine]];
  for (const [k, v] of Object.entries(d.metrics || {})) facts.push([k, ratio(v)]);
  if (d.holdout_nrmse != null) facts.push(["holdout NRMSE", ratio(d.holdout_nrmse)]);
  if (d.sampler) {
    facts.push(["sampler", d.sampler.method], ["max R-hat", ratio(d.sampler.max_rhat)],
      ["min bulk ESS", money(d.sampler.min_ess_bulk)], ["divergences", String(d.sampler.divergences)]);
  }
  if (d.selection && d.selection.rule) facts.push(["selection", d.selection.rule]);
  const wide = Object.entries(d.channels || {}).filter(([, c]) => c.interval_wider_than_estimate).map(([n]) => n);
  const warnings = [...(d.warnings || [])];
  if (wide.length) warnings.push(`The data cannot pin down the return of: ${wide.join(", ")} (90% interval wider than the ROI itself).`);
  return h("section", { class: "card", "aria-labelledby": "diag-h" }, h("h2", { id: "diag-h" }, "Diagnostics"),
    table(["Check", "Value"], facts, { numeric: [1], caption: "Diagnostics" }),
    d.selection && d.selection.reason ? h("p", { class: "muted" }, d.selection.reason) : null,
    warnings.length ? h("div", { class: "notice" }, h("strong", {}, "What the model cannot tell"), h("ul", { class: "warn-list" }, warnings.map((w) => h("li", {}, w))))
      : h("p", { class: "ok" }, "No warning from the engine's checks."));
}

async function fillDecomposition(card, id, names, colour) {
  const page1 = await api(`/v1/models/${encodeURIComponent(id)}/decomposition?limit=10000`);
  const rows = page1.rows, dates = rows.map((r) => r.date);
  const base = page1.columns.filter((c) => !["date", "actual", "fitted", ...names].includes(c));
  const baseline = rows.map((r) => base.reduce((s, c) => s + (r[c] || 0), 0));
  const layers = [{ name: "baseline", values: baseline, colour: C.BASELINE },
    ...names.map((n, i) => ({ name: n, values: rows.map((r) => r[n] || 0), colour: colour(i) }))];
  const totals = layers.map((l) => [l.name, money(l.values.reduce((a, b) => a + b, 0))]);
  card.replaceChildren(h("h2", { id: "dec-h" }, "Decomposition"),
    h("div", { class: "grid" },
      h("div", {}, h("h3", {}, "Actual and fitted"),
        chartBlock(C.lines(dates, [{ name: "actual", values: rows.map((r) => r.actual), colour: "#000000" },
          { name: "fitted", values: rows.map((r) => r.fitted), colour: C.PALETTE[5], dash: "5 3" }], "Actual and fitted KPI per period", halfWidth()),
        [["actual", "#000000"], ["fitted (dashed)", C.PALETTE[5]]], null)),
      h("div", {}, h("h3", {}, "Contributions over time"),
        chartBlock(C.stacked(dates, layers, "Baseline and channel contributions per period, stacked", halfWidth()),
          layers.map((l) => [l.name, l.colour]), table(["Component", "Total"], totals, { numeric: [1] })))));
}

async function fillCurves(card, id, names, colour) {
  const rows = await api(`/v1/models/${encodeURIComponent(id)}/planning-curves?points=21`);
  const grid = h("div", { class: "curves" });
  names.forEach((n, i) => {
    const mine = rows.filter((r) => r.channel === n);
    const cur = mine.find((r) => Math.abs(r.multiple - 1) < 1e-9);
    grid.append(chartBlock(C.curve(mine, { width: thirdWidth(), title: n, colour: colour(i), label: `Response curve of ${n} with 90% band`,
      markers: cur ? [{ spend: cur.spend, label: "current", colour: "#333" }] : [] }), null,
      table(["Spend", "Response", "90% band", "mROI"], mine.map((r) => [money(r.spend), money(r.response),
        r.lower == null ? "–" : `${money(r.lower)} – ${money(r.upper)}`, ratio(r.marginal_roi)]), { numeric: [0, 1, 2, 3], noRowHead: true })));
  });
  card.replaceChildren(h("h2", { id: "cur-h" }, "Response curves"),
    h("p", { class: "muted" }, "Expected response of each channel over the plan as its spend moves from 0 to twice the current level (the others held), on the basis the optimizer plans on; the band is the 90% interval over the model's draws."),
    grid);
}

async function fillCompare(card, id, summary) {
  card.replaceChildren(h("h2", { id: "cmp-h" }, "Champion and challenger"));
  let registered = [];
  try { registered = await api("/v1/registry"); } catch (e) { registered = []; }  // no registry on this server
  const entry = registered.find((r) => r.versions.some((v) => v.model_id === id));
  if (entry) {
    const mine = entry.versions.find((v) => v.model_id === id);
    const role = (alias) => entry.versions.find((v) => v.aliases.includes(alias));
    const champ = role("champion"), chall = role("challenger");
    card.append(h("p", {}, `Registered as ${entry.name} version ${mine.version}`,
      mine.aliases.length ? ` (${mine.aliases.join(", ")})` : "", "."));
    if (champ && chall) {
      const enc = encodeURIComponent(entry.name);
      const [a, b] = await Promise.all([api(`/v1/registry/${enc}/versions/champion`), api(`/v1/registry/${enc}/versions/challenger`)]);
      card.append(h("div", { "data-registry": entry.name }, sideBySide(`champion (v${champ.version})`, a.summary, a.holdout_nrmse,
        `challenger (v${chall.version})`, b.summary, b.holdout_nrmse)));
    } else {
      card.append(h("p", { class: "muted" }, `${entry.name} has no champion and challenger pair yet (mediamix models promote, or POST /v1/registry/NAME/versions/N/promote).`));
    }
  } else {
    card.append(h("p", { class: "muted" }, "This model is not in the registry; compare it with another model of the tenant instead."));
  }
  const others = (await api("/v1/models")).filter((m) => m.id !== id);
  if (!others.length) return card;
  const sel = h("select", { id: "challenger" }, others.map((o) => h("option", { value: o.id }, `${o.id.slice(0, 12)} (${o.engine}, ${day(o.created_at)})`)));
  const out = h("div");
  const run = async () => {
    try {
      const other = await api(`/v1/models/${encodeURIComponent(sel.value)}/summary`);
      out.replaceChildren(sideBySide("this model", summary, null, sel.value.slice(0, 12), other, null));
    } catch (e) { out.replaceChildren(problemList(e)); }
  };
  card.append(h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: "challenger" }, "Compare with another model"), sel),
    h("div", { class: "field" }, h("button", { type: "button", class: "secondary", onclick: run }, "Compare"))), out);
  return card;
}

function sideBySide(nameA, a, holdA, nameB, b, holdB) {
  const names = Array.from(new Set([...Object.keys(a.channels), ...Object.keys(b.channels)]));
  const rows = names.map((n) => { const x = a.channels[n] || {}, y = b.channels[n] || {};
    return [`${n} ROI`, ratio(x.roi), range(x.roi_interval, ratio), ratio(y.roi), range(y.roi_interval, ratio)]; });
  rows.push(["R²", ratio(a.metrics.r2), "", ratio(b.metrics.r2), ""], ["NRMSE", ratio(a.metrics.nrmse), "", ratio(b.metrics.nrmse), ""]);
  if (holdA != null || holdB != null) rows.push(["holdout NRMSE", ratio(holdA), "", ratio(holdB), ""]);
  return table(["", nameA, "90% interval", nameB, "90% interval"], rows, { numeric: [1, 2, 3, 4], caption: `${nameA} beside ${nameB}` });
}

/* ---------------------------------------------------------------- planner */

const RESERVED = ["current", "optimized", "recommended"];

function savedScenarios(id) {
  try { return JSON.parse(sessionStorage.getItem(`mediamix.scenarios.${id}`) || "{}"); } catch (e) { return {}; }
}
function storeScenarios(id, s) { sessionStorage.setItem(`mediamix.scenarios.${id}`, JSON.stringify(s)); }

async function plannerPage(id) {
  const enc = encodeURIComponent(id);
  await api(`/v1/models/${enc}`);  // 404 -> the not-found page
  if (!has("optimize:run")) { page("Scenario planner", h("p", { class: "notice" }, "The planner needs a key with the optimize:run scope.")); return; }
  const summary = await api(`/v1/models/${enc}/summary`);
  const names = Object.keys(summary.channels);
  const current = Object.fromEntries(names.map((n) => [n, summary.channels[n].spend]));
  const inputs = {}, mins = {}, maxs = {}, cells = {};
  const rows = names.map((n) => {
    inputs[n] = h("input", { type: "number", id: `spend-${n}`, min: 0, step: 1000, value: Math.round(current[n]), "data-channel": n });
    mins[n] = h("input", { type: "number", class: "small", id: `min-${n}`, min: 0, step: 1000, placeholder: "none", "aria-label": `${n} minimum for the optimizer` });
    maxs[n] = h("input", { type: "number", class: "small", id: `max-${n}`, min: 0, step: 1000, placeholder: "none", "aria-label": `${n} maximum for the optimizer` });
    cells[n] = { resp: h("td", { class: "num", "data-label": "Response" }, "…"), roi: h("td", { class: "num", "data-label": "ROI" }, "…"),
      mroi: h("td", { class: "num", "data-label": "mROI" }, "…") };
    return h("tr", {}, h("th", { scope: "row" }, h("label", { for: `spend-${n}` }, n)),
      h("td", { class: "num", "data-label": "Current" }, money(current[n])), h("td", { "data-label": "Budget" }, inputs[n]),
      h("td", { "data-label": "Min" }, mins[n]), h("td", { "data-label": "Max" }, maxs[n]), cells[n].resp, cells[n].roi, cells[n].mroi);
  });
  const totalCell = h("td", { class: "num", id: "total-spend", "data-label": "Budget" }, "");
  const out = {
    response: h("div", { class: "result", id: "predicted-response" }, "…"),
    roi: h("div", { class: "value", id: "predicted-roi" }, "…"),
    interval: h("div", { class: "value", id: "predicted-interval" }, "…"),
    change: h("div", { class: "value", id: "predicted-change" }, "…"),
    better: h("div", { class: "value", id: "predicted-better" }, "…"),
  };
  const status = h("div", { role: "status", id: "planner-status", class: "muted" });
  const budget = h("input", { type: "number", id: "opt-budget", min: 1, step: 1000 });
  const notes = h("div", { id: "opt-notes" });
  const name = h("input", { id: "scen-name", type: "text", maxlength: 80, placeholder: "e.g. more search" });
  const listBox = h("div", { id: "scen-list" });
  const compareBox = h("div", { id: "compare" });

  // an untouched input shows the current spend rounded; it still means the current spend
  const spendOf = (n) => { const v = Math.max(0, Number(inputs[n].value) || 0); return v === Math.round(current[n]) ? current[n] : v; };
  const allocation = () => Object.fromEntries(names.map((n) => [n, spendOf(n)]));
  const constraints = () => {
    const ch = {};
    for (const n of names) {
      const rule = {};
      if (mins[n].value !== "") rule.min = Number(mins[n].value);
      if (maxs[n].value !== "") rule.max = Number(maxs[n].value);
      if (Object.keys(rule).length) ch[n] = rule;
    }
    return Object.keys(ch).length ? { channels: ch } : null;
  };

  let seq = 0, timer = null;
  const evaluate = async () => {
    const mine = ++seq;
    const alloc = allocation();
    const total = Object.values(alloc).reduce((a, b) => a + b, 0);
    totalCell.textContent = money(total);
    if (document.activeElement !== budget) budget.value = Math.round(total);
    status.textContent = "Updating…";
    try {
      const res = await api(`/v1/models/${enc}/scenarios`, { json: { scenarios: { draft: alloc } } });
      if (mine !== seq) return;
      const d = res.draft;
      out.response.textContent = money(d.total_response);
      out.response.dataset.plan = JSON.stringify(alloc);  // which plan the figure is for
      out.roi.textContent = ratio(d.roi);
      out.interval.textContent = range(d.response_interval, money);
      out.change.textContent = pct(d.change_vs_current, true);
      out.better.textContent = d.probability_better == null ? "–" : pct(d.probability_better);
      for (const n of names) {
        const c = d.channels[n];
        cells[n].resp.textContent = money(c.response); cells[n].roi.textContent = ratio(c.roi); cells[n].mroi.textContent = ratio(c.marginal_roi);
      }
      status.textContent = "Up to date.";
      announce(`Predicted response ${money(d.total_response)}, ROI ${ratio(d.roi)}.`);
    } catch (e) {
      if (mine === seq) status.replaceChildren(problemList(e));
    }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(evaluate, 350); };
  names.forEach((n) => inputs[n].addEventListener("input", later));

  const optimizeBtn = h("button", { type: "button", id: "run-optimizer" }, "Run the optimizer");
  optimizeBtn.addEventListener("click", async () => {
    optimizeBtn.disabled = true;
    notes.replaceChildren(h("p", { class: "muted" }, "Optimizing…"));
    try {
      const plan = await api(`/v1/models/${enc}/optimize`, { json: { budget: Number(budget.value), constraints: constraints() } });
      for (const n of names) inputs[n].value = Math.round(plan.channels[n].spend);
      notes.replaceChildren(h("p", { class: "ok" }, `Plan status: ${plan.status}. Expected response ${money(plan.total_response)}.`),
        ...(plan.notes || []).map((t) => h("p", {}, t)),
        has("report:read") ? planReportButtons(id, plan) : null);
      if (!name.value) name.value = "optimized plan";
      await evaluate();
    } catch (e) { notes.replaceChildren(problemList(e)); }
    optimizeBtn.disabled = false;
  });

  const drawList = () => {
    const saved = savedScenarios(id);
    const keys = Object.keys(saved);
    if (!keys.length) { listBox.replaceChildren(h("p", { class: "muted" }, "No saved scenario yet.")); return; }
    listBox.replaceChildren(h("ul", { class: "scen-list" }, keys.map((k, i) => h("li", {},
      h("input", { type: "checkbox", id: `pick-${i}`, "data-name": k, checked: true }),
      h("label", { for: `pick-${i}`, class: "name" }, k),
      h("button", { type: "button", class: "secondary small", onclick: () => { for (const n of names) inputs[n].value = Math.round(saved[k].spend[n]); later(); } , "aria-label": `Load ${k}` }, "Load"),
      ["csv", "xlsx", "yaml"].map((f) => h("button", { type: "button", class: "secondary small", "data-export": f, "aria-label": `Export ${k} as ${f.toUpperCase()}`,
        onclick: () => exportScenario(enc, id, k, saved[k], f, status) }, f.toUpperCase())),
      h("button", { type: "button", class: "secondary small", "aria-label": `Delete ${k}`, onclick: () => { delete saved[k]; storeScenarios(id, saved); drawList(); } }, "Delete")))));
  };
  const saveBtn = h("button", { type: "button", id: "save-scenario" }, "Save scenario");
  saveBtn.addEventListener("click", () => {
    const key = name.value.trim();
    if (!key || RESERVED.includes(key)) { status.replaceChildren(h("span", { class: "error" }, `Give the scenario a name (not ${RESERVED.join(", ")}).`)); name.focus(); return; }
    const saved = savedScenarios(id);
    saved[key] = { spend: allocation(), constraints: constraints() };
    storeScenarios(id, saved);
    name.value = "";
    drawList();
    announce(`Scenario ${key} saved.`);
  });
  const compareBtn = h("button", { type: "button", id: "compare-scenarios", class: "secondary" }, "Compare the ticked scenarios");
  compareBtn.addEventListener("click", async () => {
    const saved = savedScenarios(id);
    const picked = Array.from(listBox.querySelectorAll("input[type=checkbox]:checked")).map((c) => c.dataset.name);
    if (!picked.length) { compareBox.replaceChildren(h("p", { class: "error" }, "Tick at least one saved scenario.")); return; }
    try {
      const res = await api(`/v1/models/${enc}/scenarios`, { json: { scenarios: Object.fromEntries(picked.map((k) => [k, saved[k].spend])) } });
      compareBox.replaceChildren(comparison(res, names));
    } catch (e) { compareBox.replaceChildren(problemList(e)); }
  });

  page("Scenario planner",
    h("p", { class: "sub" }, `Model ${id.slice(0, 12)} · spend figures are totals over a plan of ${summary.n_periods} periods, in the data's currency. `, h("a", { href: `#/models/${id}` }, "Back to the model")),
    h("div", { class: "planner-grid", "data-page": "planner" },
      h("section", { class: "card", "aria-labelledby": "alloc-h" }, h("h2", { id: "alloc-h" }, "Budget by channel"),
        h("p", { class: "muted" }, "Edit a channel's budget and the prediction follows. Minimum and maximum bound the optimizer (they are exported as the constraints YAML)."),
        h("div", { class: "table-wrap" }, h("table", { class: "planner" },
          h("thead", {}, h("tr", {}, ["Channel", "Current", "Budget", "Min", "Max", "Response", "ROI", "mROI"].map((t, i) => h("th", { scope: "col", class: i === 0 || (i >= 2 && i <= 4) ? null : "num" }, t)))),
          h("tbody", {}, rows, h("tr", { class: "total" }, h("th", { scope: "row" }, "Total"), h("td", { class: "num", "data-label": "Current" }, money(Object.values(current).reduce((a, b) => a + b, 0))), totalCell)))),
        h("div", { class: "row", style: "margin-top:.8rem" },
          h("div", { class: "field" }, h("label", { for: "opt-budget" }, "Total budget for the optimizer"), budget),
          h("div", { class: "field" }, optimizeBtn)), notes),
      h("section", { class: "card", "aria-labelledby": "pred-h" }, h("h2", { id: "pred-h" }, "Predicted result of this plan"),
        h("div", { class: "label muted" }, `Expected ${summary.kpi} from paid media`), out.response,
        h("div", { class: "kpis pred" },
          h("div", { class: "kpi wide" }, h("div", { class: "label" }, "90% interval of the response"), out.interval),
          h("div", { class: "kpi" }, h("div", { class: "label" }, "ROI"), out.roi),
          h("div", { class: "kpi" }, h("div", { class: "label" }, "Change vs current mix"), out.change),
          h("div", { class: "kpi" }, h("div", { class: "label" }, "Chance to beat the current mix"), out.better)),
        status,
        h("h3", {}, "Keep this plan"),
        h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: "scen-name" }, "Scenario name"), name), h("div", { class: "field" }, saveBtn)),
        h("h3", {}, "Saved scenarios"), listBox, h("div", { class: "actions" }, compareBtn))),
    h("section", { class: "card", "aria-labelledby": "cmpx-h" }, h("h2", { id: "cmpx-h" }, "Scenarios side by side"), compareBox));
  compareBox.append(h("p", { class: "muted" }, "Save two or more scenarios, tick them and compare."));
  drawList();
  await evaluate();
}

function comparison(res, names) {
  const keys = Object.keys(res);
  const row = (label, f) => [label, ...keys.map((k) => f(res[k]))];
  const rows = [
    row("Total spend", (s) => money(s.total_spend)),
    row("Expected response", (s) => money(s.total_response)),
    row("90% interval", (s) => range(s.response_interval, money)),
    row("ROI", (s) => ratio(s.roi)),
    row("Change vs current", (s) => pct(s.change_vs_current, true)),
    row("Chance to beat current", (s) => (s.probability_better == null ? "–" : pct(s.probability_better))),
    ...names.map((n) => row(`${n} spend`, (s) => money(s.channels[n].spend))),
    ...names.map((n) => row(`${n} response`, (s) => money(s.channels[n].response))),
  ];
  const items = keys.map((k, i) => ({ name: k, value: res[k].total_response, lower: (res[k].response_interval || [])[0],
    upper: (res[k].response_interval || [])[1], colour: C.PALETTE[i % C.PALETTE.length] }));
  return h("div", { "data-compare": keys.join("|") },
    chartBlock(C.intervals(items, "Expected response of each scenario with its 90% interval", "", fullWidth()), null, null),
    table(["", ...keys], rows, { numeric: keys.map((_, i) => i + 1), caption: "Scenarios side by side" }));
}

async function exportScenario(enc, id, key, scenario, fmt, status) {
  const body = { scenarios: { [key]: scenario.spend } };
  if (scenario.constraints) body.constraints = scenario.constraints;
  try {
    const blob = await api(`/v1/models/${enc}/scenarios/export?format=${fmt}`, { json: body, blob: true });
    const safe = key.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 40) || "scenario";
    download(blob, `${safe}.${fmt === "yaml" ? "constraints.yaml" : fmt}`);
    status.textContent = `Exported ${key} as ${fmt.toUpperCase()}.`;
  } catch (e) { status.replaceChildren(problemList(e)); }
}

/* ---------------------------------------------------------------- attribution */

async function attributionPage() {
  if (!has("data:read")) { page("Attribution", h("p", { class: "notice" }, "Attribution needs a key with the data:read scope.")); return; }
  const models = has("model:read") ? await api("/v1/models") : [];
  const file = h("input", { type: "file", id: "journeys", accept: ".csv,.parquet,text/csv", required: true });
  const model = h("select", { id: "attr-model" }, h("option", { value: "" }, "none"), models.map((m) => h("option", { value: m.id }, `${m.id.slice(0, 12)} (${m.engine})`)));
  const out = h("div", { id: "attr-out" });
  const form = h("form", { class: "card", "data-page": "attribution" },
    h("p", { class: "muted" }, "Every method side by side on one journeys file (aggregated paths or an event log), optionally with a model's MMM shares. The file goes to the API and is not kept."),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "journeys" }, "Journeys file (CSV or Parquet)"), file),
      h("div", { class: "field" }, h("label", { for: "attr-model" }, "MMM model (optional)"), model),
      h("div", { class: "field" }, h("button", { type: "submit" }, "Compare methods"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!file.files.length) return;
    const fd = new FormData();
    fd.append("journeys", file.files[0]);
    fd.append("method", "all");
    if (model.value) fd.append("model_id", model.value);
    out.replaceChildren(h("p", { class: "muted" }, "Attributing…"));
    try { out.replaceChildren(attributionResult(await api("/v1/attribution", { body: fd, method: "POST" }))); }
    catch (e) { out.replaceChildren(problemList(e)); }
  });
  page("Attribution", form, out);
}

function attributionResult(rows) {
  const methods = Object.keys(rows[0] || {}).filter((k) => k.endsWith("_conversions")).map((k) => k.replace(/_conversions$/, ""));
  const series = methods.map((m, i) => [m.replace(/_/g, " "), C.PALETTE[i % C.PALETTE.length]]);
  const groups = rows.map((r) => ({ name: String(r.channel), values: methods.map((m) => r[`${m}_conversions`]) }));
  return h("section", { class: "card", "aria-labelledby": "attr-h" }, h("h2", { id: "attr-h" }, "Conversions by channel and method"),
    chartBlock(C.bars(groups, series, "Conversions credited to each channel by each method", fullWidth()), series, null),
    table(["Channel", ...methods.map((m) => m.replace(/_/g, " "))], rows.map((r) => [String(r.channel), ...methods.map((m) => ratio(r[`${m}_conversions`]))]),
      { numeric: methods.map((_, i) => i + 1), caption: "Conversions by channel and method" }));
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
