// Homeward dashboard: reads the public API only (the same JSON a council's BI tool would use).
"use strict";

// A number in en-GB form; "n/a" for a figure the API left out or gave as null (never "0").
// A figure to `digits` places; never "-0": a solver's -2.6e-10 GBP left of a budget spent to
// the penny rounds to nothing, and a minus sign on it reads as an overspend.
function fmt(x, digits = 0) {
  if (x == null || !Number.isFinite(Number(x))) return "n/a";
  const text = Number(x).toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return /[1-9]/.test(text) ? text : text.replace(/^-/, "");
}

// The API key lives in sessionStorage: it survives a reload but not closing the tab.
const KEY_STORE = "homeward-api-key";

function withKey(options = {}) {
  const key = sessionStorage.getItem(KEY_STORE);
  if (!key) return options;
  return { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${key}` } };
}

// The response and its JSON body; an error (401, 403, 409, 422, ...) is thrown with its detail.
// The status and content type are read first: a proxy's or gateway's HTML error page is
// reported as what it is, not as "Unexpected token <".
const isJSONType = (type) => /^application\/([\w.+-]+\+)?json\b/i.test(type);

// An error carrying the HTTP status it came with, whether the service itself said it (a JSON
// problem with a detail, not a proxy's page), so the page can tell "no plan yet" from a failure,
// the problem's `code` (what the page branches on: `detail` is for people and may be reworded),
// and a 422's located problems (`location`, `expected`, `found`).
const httpError = (status, detail, message, problems = [], code = null) =>
  Object.assign(new Error(message), { status, fromService: detail != null, detail, problems, code });

async function fetchJSON(url, options) {
  const response = await fetch(url, withKey(options));
  const type = response.headers.get("content-type") || "";
  let body = null;
  if (isJSONType(type)) {
    try { body = await response.json(); } catch { body = null; }
  }
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  const detail = body && typeof body.detail === "string" ? body.detail : null;
  const code = body && typeof body.code === "string" ? body.code : null;
  if (response.status === 401) {
    throw httpError(response.status, detail, `${detail || `${status} from ${url}`}. Paste an API key in the box at the top ` +
      "(an administrator makes one with: homeward keys create --name NAME --role viewer).", [], code);
  }
  if (!response.ok) {
    throw httpError(response.status, detail, detail || `${status} from ${url}: ` +
      `the server answered with ${type ? type.split(";")[0] : "no content type"} rather than a JSON ` +
      "problem (a proxy or gateway between this page and the service may be failing)",
      Array.isArray(body?.problems) ? body.problems : []);
  }
  if (body === null) {
    throw new Error(`${url} answered ${status} with ${type ? type.split(";")[0] : "no content type"}, ` +
      "not the JSON expected (a proxy or gateway between this page and the service may be answering)");
  }
  return { response, body };
}

async function getJSON(url, options) {
  return (await fetchJSON(url, options)).body;
}

// The error is said at once to a screen reader (role alert) unless it lands in a region that
// already announces what it holds (the what-if's result), which would say it twice.
function showError(selector, heading, message) {
  const section = document.querySelector(selector);
  section.innerHTML = heading ? `<h2>${heading}</h2><p class="error"></p>` : `<p class="error"></p>`;
  const error = section.querySelector(".error");
  error.textContent = message;  // text, never markup
  if (!section.closest("[aria-live], [role='status']")) error.setAttribute("role", "alert");
}

// Text from the server (district ids and names come from a stored config, which a finance
// key may write) is escaped before it goes into markup, so it is shown, never run.
const esc = (v) => String(v ?? "").replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function sum(rows, key) { return rows.reduce((acc, r) => acc + (Number(r[key]) || 0), 0); }

// The weeks a plan covers (each week's start date), from whichever of its rows carry dates;
// its totals (cost, fee income, waiting, hours) are over all of them.
function planWeeks(plan) {
  const r = plan.result || {};
  const dates = new Set();
  for (const rows of [r.revenue, r.hours, r.demand]) {
    for (const row of rows || []) if (row.ds) dates.add(String(row.ds).slice(0, 10));
  }
  return [...dates].sort();
}

// The plan period (its first day, YYYY-MM-DD) that today falls in, or undefined when today is
// before or after the plan.
function periodUnderWay(periods, days) {
  const now = Date.now();
  return periods.find((p) => {
    const start = Date.parse(`${p}T00:00:00Z`);
    return start <= now && now < start + days * 86400000;
  });
}

// What one period of a plan is called, from its period_days: "week" (7), "month" (28 to 31),
// "day" (1), else "14-day period"; most plans are weekly, but monthly demand plans by month.
function periodWord(plan) {
  const days = Number(plan?.result?.period_days) || 7;
  return days === 7 ? "week" : days >= 28 && days <= 31 ? "month" : days === 1 ? "day" : `${days}-day period`;
}
const periods = (n, word) => (n === 1 ? word : `${n} ${word}s`);

// "over the plan's 52 weeks, 2026-01-05 to 2027-01-03": the period a plan's totals cover.
function planPeriod(plan) {
  const weeks = planWeeks(plan);
  if (!weeks.length) return "over the whole plan";
  const last = new Date(`${weeks[weeks.length - 1]}T00:00:00Z`);
  if (periodWord(plan) === "month") last.setUTCMonth(last.getUTCMonth() + 1, 0);  // its last day
  else last.setUTCDate(last.getUTCDate() + (Number(plan.result.period_days) || 7) - 1);
  return `over the plan's ${periods(weeks.length, periodWord(plan))}, ${weeks[0]} to ${last.toISOString().slice(0, 10)}`;
}

// The summary's heading: the latest plan's, or for a plan asked for by id (?plan=12) which
// plan it is (a what-if or not, when it was made and from which config) and a way back to the
// latest, so a what-if's figures are never read as the current plan's.
function summaryHeading(plan, asked) {
  if (asked.id == null) return `<h2>Latest plan (#<span id="plan-id">${esc(plan.id)}</span>)</h2>`;
  // a sweep's rates are what-ifs too (their runs' trigger is "sweep"), so either is named
  const whatIf = plan.scenario ? " (a changed config sent to POST /v1/plans, or one rate of a " +
    "fee sweep: a what-if is never the latest plan)" : "";
  return `<h2>${plan.scenario ? "What-if plan" : "Plan"} #<span id="plan-id">${esc(plan.id)}</span></h2>
    <p id="plan-chosen" class="chosen">${plan.scenario ? "A what-if" : "Not a what-if"}, made
    ${esc(when(plan.created_at))} with config #${esc(plan.config_id)}${whatIf}.
    ${latestLink()}</p>`;
}

function renderSummary(plan, asked = { id: null }) {
  const r = plan.result;
  const figures = planFigures(plan);
  document.querySelector("#summary").innerHTML = `
    ${summaryHeading(plan, asked)}
    <p class="muted" id="plan-period">Totals ${planPeriod(plan)}</p>
    <p id="plan-run-failed" class="warnings" role="note" hidden></p>
    <div class="kpi">
      <div><span class="muted">status</span><b id="plan-status">${esc(plan.status)}</b></div>
      <div><span class="muted">weighted waiting, days</span><b id="plan-wait">${fmt(figures.wait)}</b></div>
      <div><span class="muted">staff cost, GBP</span><b id="plan-staff">${fmt(figures.staff)}</b></div>
      <div><span class="muted">agency cost, GBP</span><b id="plan-agency">${fmt(figures.agency)}</b></div>
      <div><span class="muted">fee income, GBP</span><b id="plan-fee">${fmt(figures.fee)}</b></div>
      <div><span class="muted">charge income, GBP</span><b id="plan-charge">${fmt(figures.charge)}</b></div>
      <div><span class="muted">net cost (less fees and charges), GBP</span><b id="plan-net">${fmt(figures.net)}</b></div>
      <div><span class="muted">revenue budget, GBP</span><b id="plan-budget">${fmt(figures.budget)}</b></div>
      <div><span class="muted">budget left unspent, GBP</span><b id="plan-unspent">${fmt(figures.unspent)}</b></div>
      <div><span class="muted">delayed days in hospital</span><b id="plan-dtoc">${fmt(figures.dtoc)}</b></div>
      <div><span class="muted">delayed days, simulated</span><b id="plan-sim-dtoc">${fmtOrNA(figures.simDtoc)}</b></div>
    </div>
    ${revenueByYear(plan)}
    <div id="plan-warnings"></div>
    <p class="muted">${esc(r.message)}</p>
    <p id="plan-config-note" role="note" hidden></p>
    <p id="plan-synthetic" class="warnings" role="note" hidden></p>
    <p class="muted">config #${esc(plan.config_id)}<span id="plan-config-name"></span>, solver ${esc(r.solver)}, ${fmt(r.solve_seconds, 2)} s</p>
    ${downloadsBlock(plan)}`;
  renderWarnings(r.warnings || []);
  wireDownloads(document.querySelector("#summary"));
  document.querySelector("#summary").setAttribute("aria-busy", "false");
}

// Each financial year the plan reaches, as the summary gives it (revenue_budget_gbp[2026-27],
// net_revenue_cost_gbp[..], unspent_budget_gbp[..], periods[..] and part_year[..]): the
// plan's revenue_by_year rows, every budget's summed, so a finance officer reads revenue by
// year beside DFG capital by year. A year the plan covers only in part says so: its budget is
// the plan's periods' share, not the year's. The whole year's periods are the rows'
// year_periods, as the API serves them (homeward/plan_years.py, which the summary's part_year
// reads too), never reckoned here: null (no part or whole said) where the plan gives no grid.
function revenueByYear(plan) {
  const rows = plan.result.revenue_by_year || [];
  if (!rows.length) return "";
  const word = periodWord(plan);
  const years = [...groupBy(rows, (y) => y.year).values()].map((ys) => ({
    year: ys[0].year, periods: Number(ys[0].periods), whole: ys[0].year_periods ?? null,
    budget: sum(ys, "budget_gbp"), net: sum(ys, "net_cost_gbp"), unspent: sum(ys, "headroom_gbp") })).sort(byYear);
  // a column a year, a row a figure, short labels (GBP in the caption), part or whole in the
  // year's heading: three years fit the summary's narrow card beside the hours on a desktop
  const covers = (y) => (y.whole == null ? String(y.periods) : `${y.periods} of ${y.whole}`);
  const part = (y) => (y.whole == null ? "" : ` (${y.periods < y.whole ? "part" : "whole"})`);
  const line = (label, cell) => `<tr><th scope="row">${label}</th>${years.map((y) => `<td>${cell(y)}</td>`).join("")}</tr>`;
  return `<h3 id="revenue-year-heading">Revenue by financial year</h3><div class="wide"><table id="revenue-year-table">
    <caption>Each financial year (1 April to 31 March) the plan's ${word}s start in, part or
    whole: how many of the year's ${word}s the plan covers, the revenue budget for those
    ${word}s, the net cost (staff and agency cost less fee and charge income) and the budget
    left unspent, GBP, every budget's summed</caption>
    <thead><tr><th scope="col">financial year</th>${years.map((y) => `<th scope="col">${esc(y.year)}${part(y)}</th>`).join("")}</tr></thead>
    <tbody>${line(`${word}s`, (y) => esc(covers(y)))}${line("budget", (y) => fmt(y.budget))}
    ${line("net cost", (y) => fmt(y.net))}${line("unspent", (y) => fmt(y.unspent))}</tbody></table></div>`;
}

// CSV downloads for a spreadsheet: the plan's summary and warnings (what a head of service is
// handed: figures, config, data dates), its main tables (GET /v1/plans/{id}/{table}.csv, this
// plan's id, so a download cannot be a newer plan's), every series' newest forecast and every
// series' winter index (the page shows every series, so neither takes a prefix). They are
// fetched with the tab's key (a plain link could not send it) and saved under the server's name.
const DOWNLOAD_TABLES = [
  ["summary", "summary"], ["warnings", "warnings"], ["hours", "hours"], ["staffing", "staffing"], ["capital", "DFG capital"], ["backlog", "backlog and waits"],
  ["district_waits", "district waits"], ["revenue", "revenue"],
  ["revenue_by_year", "revenue by financial year"], ["revenue_by_service", "revenue by service"], ["capital_by_year", "DFG capital by financial year"],
  ["demand", "demand"],
  ["demand_risk", "low and high years"], ["risk_periods", "high-year contingency by period"], ["shadow_prices", "shadow prices"],
];

// Saved with a UTF-8 byte order mark before the API's bytes: Excel opens a double-clicked CSV
// without one in the PC's own code page (Windows-1252 in the UK), garbling a team named
// "Gogledd Môn". The API sends none (scripts and pandas read its CSVs raw).
const UTF8_BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

function downloadsBlock(plan) {
  const links = DOWNLOAD_TABLES.map(([table, label]) =>
    `<button type="button" class="download" data-path="/v1/plans/${encodeURIComponent(plan.id)}/${table}.csv">${esc(label)}</button>`);
  links.push('<button type="button" class="download" data-path="/v1/forecasts.csv">every forecast</button>');
  links.push('<button type="button" class="download" data-path="/v1/winter.csv">winter indices</button>');
  return `<p id="downloads"><span class="muted">Download as CSV (opens in a spreadsheet):</span> ${links.join(" ")}
    <span id="download-status" class="muted" role="status" aria-live="polite"></span></p>`;
}

// `status`: where a download says how it went (the summary's, or the sweep's own)
function wireDownloads(root, status = "#download-status") {
  for (const button of root.querySelectorAll("button.download")) {
    button.onclick = () => download(button.dataset.path, root.querySelector(status));
  }
}

async function download(path, status) {
  status.textContent = `downloading ${path}…`;
  try {
    const response = await fetch(path, withKey());
    if (!response.ok) {
      const type = response.headers.get("content-type") || "";
      const body = isJSONType(type) ? await response.json().catch(() => null) : null;
      throw new Error(body?.detail || `${response.status} ${response.statusText} from ${path}`);
    }
    const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
    const name = named ? named[1] : path.split("/").pop();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([UTF8_BOM, await response.arrayBuffer()], { type: "text/csv;charset=utf-8" }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    status.textContent = `saved ${name}`;
  } catch (err) {
    status.textContent = `could not download: ${err.message}`;
    status.classList.add("error");
  }
}

// After a new config is stored, the latest plan is still the old config's until the pipeline
// plans the new one: the summary says so, so its figures are not read as the new config's.
// The plan's config by name, and a plain note when it is the synthetic demo's: its figures are
// invented (calibrated to real ones), and must not be read as a council's own.
const SYNTHETIC_CONFIG = /\(synthetic\)/i;

function nameConfig(config) {
  const name = document.querySelector("#plan-config-name");
  if (!name || !config) return;  // the name is a courtesy: the plan stands without it
  name.textContent = ` "${config.name}" version ${config.version}`;
  if (SYNTHETIC_CONFIG.test(config.name)) {
    const note = document.querySelector("#plan-synthetic");
    note.hidden = false;
    note.textContent = "Synthetic demo: this plan is of the demo's invented Warwickshire data " +
      "(calibrated to real figures), not a council's own. Upload your history (homeward import " +
      "--replace, or POST /v1/observations?replace=true) and store your own config to plan yours.";
  }
}

// Whether a plan's config is the active one: the same id, or an earlier active config with the
// same content (a config stored again after another is a new version of the same config).
async function isActiveConfig(configId, active) {
  if (configId === active.id) return true;
  const config = await getJSON(`/v1/configs/${encodeURIComponent(configId)}`).catch(() => null);
  return Boolean(config && !config.scenario && config.body_hash === active.body_hash);
}

// `failed`: the newest pipeline run, when it failed after this plan was made (failedRunAfter).
// A run that failed planning the active config is said to have: "plans it when it next runs"
// would read as if no run had tried yet.
async function noteActiveConfig(plan, active, failed = null) {
  const note = document.querySelector("#plan-config-note");
  if (!note || !active || await isActiveConfig(plan.config_id, active)) return;
  note.hidden = false;
  note.className = "warnings";
  const next = failed && failed.config_id === active.id
    ? `the pipeline's newest run (#${failed.id}) read it and failed (said above): it is planned ` +
      "by the next run that succeeds (POST /v1/runs, or the schedule), once what failed is mended."
    : "the pipeline plans it when it next runs (POST /v1/runs, or the schedule).";
  note.textContent = `This plan was made with config #${plan.config_id}; the active config is now ` +
    `#${active.id} (${active.name} ${active.version}), whose figures these are not: ${next} ` +
    "What-ifs and sweeps compare with the active config's own plan.";
}

// The newest pipeline run, when it failed after the latest plan's run (run ids only grow): the
// latest plan is then an older one, kept because that run stored none (a solver that ended
// without a plan, or data it could not read). null otherwise, and for a key that may not read
// runs (or any other failure to read them): the plan stands without the note.
async function failedRunAfter(plan) {
  const runs = await getJSON("/v1/runs?kind=pipeline&limit=1").catch(() => null);
  const run = Array.isArray(runs) ? runs[0] : null;
  return run && run.status === "failed" && run.id > plan.run_id ? run : null;
}

// The run's own words, without the failure's class ("PlanNotSolved: "), which a run stored by
// an earlier release begins with: a planner reads what happened, not a Python name.
const runWords = (message) => String(message ?? "no reason recorded").replace(/^PlanNotSolved: /, "");

function noteFailedRun(plan, run) {
  const note = document.querySelector("#plan-run-failed");
  if (!note) return;
  note.dataset.checked = "true";  // the runs were read: a client of the page may judge the note
  if (!run) return;
  note.hidden = false;
  note.textContent = `The latest pipeline run (#${run.id}, ${when(run.finished_at ?? run.started_at)}) ` +
    `failed: ${runWords(run.message)}; this is still plan #${plan.id}, the newest solved.`;
}

// What the planner should know before trusting the figures (the simulation disagreeing with the
// LP, winter planned without its pressure series, ...). Nothing is shown when there is none.
function renderWarnings(warnings) {
  const box = document.querySelector("#plan-warnings");
  if (!warnings.length) return;
  box.className = "warnings";
  box.setAttribute("role", "note");
  box.innerHTML = `<h3>${warnings.length === 1 ? "Warning" : `${warnings.length} warnings`}</h3><ul></ul>`;
  const list = box.querySelector("ul");
  for (const w of warnings) {
    const item = document.createElement("li");
    item.append(Object.assign(document.createElement("span"), { className: "warning-text", textContent: w }));
    // The simulation's table is the waits card: the warning names it by its heading.
    if (/simulat/i.test(w)) {
      item.insertAdjacentHTML("beforeend", ` <span class="warning-see">(the planned and simulated waits are
        under <a href="#waits">${WAITS_HEADING}</a>)</span>`);
    }
    list.append(item);
  }
}

// Services by the names the people who plan them use (ids from the API otherwise, "_" as spaces),
// in every card: hours, waits, low and high years, demand.
const SERVICE_NAMES = { ot: "OT", hao: "HAO", reablement: "reablement", domcare: "domiciliary care", dfg_works: "DFG works" };
const serviceName = (id) => SERVICE_NAMES[id] ?? String(id).replace(/_/g, " ");

// Districts by the names in the plan's config ("North Warwickshire"), in every card, and in
// that order; the id where the config cannot be read or does not name it.
let districtNames = new Map();
const districtName = (id) => districtNames.get(id) ?? String(id);
const byDistrictName = (a, b) => districtName(a).localeCompare(districtName(b));

function nameDistricts(config) {
  const districts = config?.body?.districts;
  districtNames = new Map(Array.isArray(districts) ? districts.map((d) => [d.id, d.name ?? d.id]) : []);
}

// The plan statuses that are plans (repository.SOLVED_PLAN_STATUSES); the others (error,
// infeasible, time_limit) are a solver that ended without one
const SOLVED_STATUSES = ["optimal", "infeasible_relaxed"];

const HOURS_HEADING = "Hours by district and service";

// Hours worked (in-house staff and agency: the plan's hours rows) by district and service, summed over the plan, as an average week, or
// in one week of it (what a planner rosters: the plan's weeks differ by a third and more between winter and summer), with each district's
// and each service's total.
function renderHours(plan) {
  const known = ["ot", "hao", "reablement", "domcare"];
  const hours = plan.result.hours || [];
  const services = [...known, ...[...new Set(hours.map((h) => h.service))].filter((s) => !known.includes(s)).sort()];
  const tableOf = (rows) => {
    const table = {};
    for (const h of rows) {
      table[h.district] ??= {};
      table[h.district][h.service] = (table[h.district][h.service] || 0) + (Number(h.hours) || 0);
    }
    return table;
  };
  const whole = tableOf(hours);
  const planned = planWeeks(plan), weeks = planned.length;
  const current = periodUnderWay(planned, plan.result.period_days || 7);
  const word = periodWord(plan);
  const weekOptions = planned.map((w) =>
    `<option value="ds:${esc(w)}">${word} of ${esc(w)}${w === current ? ` (this ${word})` : ""}</option>`).join("");
  const section = document.querySelector("#hours");
  if (!hours.length) {  // a solve that ended without a plan (a sweep's rate): no table of 0s
    section.innerHTML = `<h2>${HOURS_HEADING}</h2><p class="muted" id="hours-none">This plan records no hours.</p>`;
    return;
  }
  section.innerHTML = `<h2>${HOURS_HEADING}</h2>` + (weeks > 1
    ? `<label for="hours-per">Show</label><select id="hours-per"><option value="total">total over the plan</option>
      <option value="week">average a ${word}</option><optgroup label="one ${word}">${weekOptions}</optgroup></select>` : "") +
    '<div class="wide" id="hours-view"></div>';
  const districts = Object.keys(whole).sort(byDistrictName);
  const show = () => {
    const choice = section.querySelector("#hours-per")?.value || "total";
    const week = choice.startsWith("ds:") ? choice.slice(3) : null;
    const table = week ? tableOf(hours.filter((h) => String(h.ds).slice(0, 10) === week)) : whole;
    const scale = choice === "week" ? 1 / weeks : 1;
    const cell = (x) => `<td>${fmt(x * scale)}</td>`;
    const rowTotal = (d) => services.reduce((acc, s) => acc + ((table[d] || {})[s] || 0), 0);
    const colTotal = (s) => districts.reduce((acc, d) => acc + ((table[d] || {})[s] || 0), 0);
    const rows = districts.map((d) =>
      `<tr><th scope="row">${esc(districtName(d))}</th>${services.map((s) => cell((table[d] || {})[s] || 0)).join("")}${cell(rowTotal(d))}</tr>`);
    const all = districts.reduce((acc, d) => acc + rowTotal(d), 0);
    const caption = week
      ? `Hours worked (in-house and agency) in the ${word} of ${week}`
      : choice === "week"
        ? `Hours worked (in-house and agency) in an average ${word}: the hours ${planPeriod(plan)}, divided by ${weeks}`
        : `Hours worked (in-house and agency) in total ${planPeriod(plan)}`;
    section.querySelector("#hours-view").innerHTML = `<table id="hours-table"><caption id="hours-caption">${caption}</caption>
      <thead><tr><th scope="col">district</th>${services.map((s) =>
        `<th scope="col">${esc(serviceName(s))}</th>`).join("")}<th scope="col">all services</th></tr></thead>
      <tbody>${rows.join("")}</tbody>
      <tfoot><tr><th scope="row">all districts</th>${services.map((s) => cell(colTotal(s))).join("")}${cell(all)}</tr></tfoot>
      </table>`;
  };
  const select = section.querySelector("#hours-per");
  if (select) select.onchange = show;
  show();
}

// DFG capital by district: each district's own grant (not pooled, and not for staff), what the
// plan spends of it, the works it pays for and the last week with any. Works stop when a
// district's capital is spent, which a plan's warnings say; this is where a planner sees when.
const CAPITAL_HEADING = "DFG capital and works";

function renderCapital(plan) {
  const r = plan.result;
  const totals = r.capital_total || [];
  const section = document.querySelector("#capital");
  if (!totals.length) {
    section.innerHTML = `<h2>${CAPITAL_HEADING}</h2><p class="muted" id="capital-none">This plan records no DFG capital.</p>`;
    return;
  }
  const works = new Map(), lastWorks = new Map();
  for (const c of r.capital || []) {
    const done = Number(c.works_completed) || 0;
    works.set(c.district, (works.get(c.district) || 0) + done);
    const ds = String(c.ds ?? "").slice(0, 10);
    if (done > 1e-6 && ds > (lastWorks.get(c.district) ?? "")) lastWorks.set(c.district, ds);
  }
  const waits = new Map((r.district_waits || []).filter((w) => w.service === "dfg_works")
    .map((w) => [w.district, w.avg_wait_days]));
  const weeks = planWeeks(plan), end = weeks[weeks.length - 1];
  const last = (d) => !lastWorks.has(d) ? "none" : lastWorks.get(d) === end ? "to the end" : lastWorks.get(d);
  const rows = [...totals].sort((a, b) => byDistrictName(a.district, b.district)).map((t) =>
    `<tr><th scope="row">${esc(districtName(t.district))}</th><td>${fmtOrNA(t.capital_available_gbp)}</td>
      <td>${fmtOrNA(t.capital_spent_gbp)}</td><td>${fmt(works.get(t.district) || 0, 1)}</td>
      <td>${esc(last(t.district))}</td><td>${fmtOrNA(waits.get(t.district), 1)}</td></tr>`);
  const all = (key) => totals.reduce((acc, t) => acc + (Number(t[key]) || 0), 0);
  const allWorks = [...works.values()].reduce((a, b) => a + b, 0);
  section.innerHTML = `<h2>${CAPITAL_HEADING}</h2><div class="wide"><table id="capital-table">
    <caption>Each district's own DFG capital ${planPeriod(plan)} (not pooled, and not for staff),
    what the plan spends, the works it pays for and the last ${periodWord(plan)} with any: works stop when a
    district's capital is spent</caption>
    <thead><tr><th scope="col">district</th><th scope="col">capital (GBP)</th><th scope="col">spent (GBP)</th>
    <th scope="col">works completed</th><th scope="col">last ${periodWord(plan)} with works</th>
    <th scope="col">average works wait (days)</th></tr></thead>
    <tbody>${rows.join("")}</tbody>
    <tfoot><tr><th scope="row">all districts</th><td>${fmt(all("capital_available_gbp"))}</td>
      <td>${fmt(all("capital_spent_gbp"))}</td><td>${fmt(allWorks, 1)}</td><td></td><td></td></tr></tfoot>
    </table></div>${capitalByYear(plan)}`;
}

// Rows by `key(row)`, in their order (Map.groupBy is too new for some councils' managed browsers).
function groupBy(rows, key) {
  const groups = new Map();
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row]);
  return groups;
}

const byYear = (a, b) => String(a.year).localeCompare(String(b.year));

// Where the config gives each district's capital per financial year (capital_by_year_gbp), each
// year's is bounded on its own and what is left is not carried into the next: per district and
// year, the capital, what the plan spends and leaves, and the works. A plan whose config gives
// capital over the whole horizon (capital_gbp) has its years' capital null: nothing is added.
function capitalByYear(plan) {
  const years = (plan.result.capital_by_year || []).filter((y) => y.capital_available_gbp != null);
  if (!years.length) return "";
  const word = periodWord(plan);
  // a district's (or the area's) years: its name once, heading its rows, then a row a year
  const group = (name, rows) => rows.map((y, i) => `<tr>${i ? "" : `<th scope="rowgroup" rowspan="${rows.length}">${esc(name)}</th>`}
    <th scope="row">${esc(y.year)} <span class="muted">(${periods(Number(y.periods), word)})</span></th>
    <td>${fmt(y.capital_available_gbp)}</td><td>${fmt(y.capital_spent_gbp)}</td>
    <td>${fmt(y.capital_left_gbp)}</td><td>${fmt(y.works_completed, 1)}</td></tr>`).join("");
  const districts = groupBy(years, (y) => y.district);
  const bodies = [...districts.keys()].sort(byDistrictName)
    .map((d) => `<tbody>${group(districtName(d), [...districts.get(d)].sort(byYear))}</tbody>`);
  const totals = [...groupBy(years, (y) => y.year).values()].map((rows) => ({
    year: rows[0].year, periods: rows[0].periods, capital_available_gbp: sum(rows, "capital_available_gbp"),
    capital_spent_gbp: sum(rows, "capital_spent_gbp"), capital_left_gbp: sum(rows, "capital_left_gbp"),
    works_completed: sum(rows, "works_completed") })).sort(byYear);
  return `<h3 id="capital-year-heading">By financial year</h3><div class="wide"><table id="capital-year-table">
    <caption>Each district's DFG capital for each financial year (1 April to 31 March) the plan's
    ${word}s start in, what the plan spends of it, what is left (not carried into the next year) and
    the works it pays for</caption>
    <thead><tr><th scope="col">district</th><th scope="col">financial year</th><th scope="col">capital (GBP)</th>
    <th scope="col">spent (GBP)</th><th scope="col">left (GBP)</th><th scope="col">works completed</th></tr></thead>
    ${bodies.join("")}<tfoot>${group("all districts", totals)}</tfoot></table></div>`;
}

// Waits by service and district: the plan's average wait (its fluid model, Little's law) and,
// where the plan was simulated with random arrivals, the simulated wait beside it.
const WAITS_HEADING = "Waits by service and district";
const FLAG_PERCENT = 15;  // optimise/simulate.py flags a simulated wait this far from the plan's
const FLAG_MARK = "⚑";
const cellKey = (service, district) => JSON.stringify([service, district]);  // any id, no clash

function renderWaits(plan) {
  const r = plan.result;
  const waits = r.district_waits || [], sims = r.simulation || [];
  const section = document.querySelector("#waits");
  const classes = classWaits(r.backlog || [], Number(r.period_days) || 7);
  section.innerHTML = `<h2 id="waits-heading">${WAITS_HEADING}</h2>` + (waits.length
    ? waitsTable(waits, sims, classes.length > 0) + waitsNote(sims) + classWaitsTable(classes, waits, periodWord(plan))
    : '<p class="muted" id="waits-none">This plan records no waits by district.</p>') +
    baselinesTable(r.baselines || []) + riskTable(r.demand_risk || []);
}

// Waits by priority class: the plan's average over both classes hid that standard reablement
// cases waited 76 days, and 195 in the demo's worst week, while the average read 42. Per service
// with more than one class, district and class (from the backlog rows: cases waiting and served
// each period): the average wait over the plan (the district_waits rule, days waited over cases
// served), the longest any one period, and the periods whose cases wait without end: waiting,
// none served then or in any later period (optimise/long_waits.py's rule; a period serving none
// of a queue that a later one serves has that period's wait, already among the longest's).
// [] for a plan without classes.
const WAITING_CASES = 1e-6;  // optimise/long_waits.py: fewer waiting is the solver's round-off
const CLASS_ORDER = ["urgent", "standard"];
const classKey = (service, district, priority) => JSON.stringify([service, district, priority]);

function classFigures(rows, periodDays) {
  const inOrder = [...rows].sort((a, b) => Number(a.period) - Number(b.period));
  const served = inOrder.map((b) => b.avg_wait_days != null);
  const lastServed = served.lastIndexOf(true);
  return {
    waited: sum(inOrder, "backlog_cases") * periodDays,
    served: sum(inOrder, "cases_served"),
    longest: lastServed < 0 ? null : Math.max(...inOrder.filter((b, i) => served[i]).map((b) => Number(b.avg_wait_days))),
    endless: inOrder.filter((b, i) => i > lastServed && Number(b.backlog_cases) > WAITING_CASES).length,
  };
}

function classWaits(backlog, periodDays) {
  const cells = groupBy(backlog, (b) => classKey(b.service, b.district, b.priority));
  const all = [...cells.values()].map((rows) => {
    const { service, district, priority } = rows[0];
    const c = classFigures(rows, periodDays);
    return { service, district, priority, ...c, average: c.served > 1e-9 ? c.waited / c.served : null };
  });
  const split = new Set([...groupBy(all, (c) => c.service)].filter(([, rows]) =>
    new Set(rows.map((c) => c.priority)).size > 1).map(([service]) => service));
  return all.filter((c) => split.has(c.service));
}

const classRank = (p) => (CLASS_ORDER.includes(p) ? CLASS_ORDER.indexOf(p) : CLASS_ORDER.length);
const byClass = (a, b) => classRank(a) - classRank(b) || String(a).localeCompare(String(b));

// "76.2 (longest 194.6)", "4.1 (longest 9.0; without end in 2 weeks)"
function classCell(c, word) {
  if (!c) return "<td>n/a</td>";
  const endless = c.endless ? `; without end in ${c.endless} ${word}${c.endless === 1 ? "" : "s"}` : "";
  return `<td><span class="lp">${fmtOrNA(c.average, 1)}</span> <span class="longest">(longest ` +
    `${fmtOrNA(c.longest, 1)}${endless})</span></td>`;
}

// In the waits table's rows and columns: its districts, each with a row per class, and its services.
function classWaitsTable(classes, waits, word) {
  if (!classes.length) return "";
  const order = [...new Set(waits.map((w) => w.service))];
  const rank = (s) => (order.includes(s) ? order.indexOf(s) : order.length);
  const services = [...new Set(classes.map((c) => c.service))].sort((a, b) => rank(a) - rank(b));
  const cell = new Map(classes.map((c) => [classKey(c.service, c.district, c.priority), c]));
  const bodies = [...groupBy(classes, (c) => c.district)].sort(([a], [b]) => byDistrictName(a, b))
    .map(([district, rows]) => {
      const kinds = [...new Set(rows.map((c) => c.priority))].sort(byClass);
      return `<tbody>${kinds.map((k, i) => `<tr>${i ? "" : `<th scope="rowgroup" rowspan="${kinds.length}">${esc(districtName(district))}</th>`}` +
        `<th scope="row">${esc(k)}</th>${services.map((s) => classCell(cell.get(classKey(s, district, k)), word)).join("")}</tr>`).join("")}</tbody>`;
    });
  return `<h3 id="class-waits-heading">By priority class</h3><div class="wide"><table id="class-waits-table">
    <caption>Average wait in days over the plan for each priority class, as planned, and (longest) the
    longest in any one ${word}, with any ${word}s whose cases wait without end (none served then or
    later in the plan): the averages above, over both classes, can hide a class that waits far longer</caption>
    <thead><tr><th scope="col">district</th><th scope="col">priority</th>${services.map((s) =>
      `<th scope="col">${esc(serviceName(s))}</th>`).join("")}</tr></thead>${bodies.join("")}</table></div>`;
}

function waitsTable(waits, sims, classed = false) {
  const services = [...new Set(waits.map((w) => w.service))];
  const districts = [...new Set(waits.map((w) => w.district))].sort(byDistrictName);
  const planned = new Map(waits.map((w) => [cellKey(w.service, w.district), w]));
  const simulated = new Map(sims.map((s) => [cellKey(s.service, s.district), s]));
  const rows = districts.map((d) => `<tr><th scope="row">${esc(districtName(d))}</th>${services.map((s) =>
    waitCell(planned.get(cellKey(s, d)), simulated.get(cellKey(s, d)))).join("")}</tr>`);
  const caption = (sims.length
    ? "Average wait in days as planned, and (sim) as simulated"
    : "Average wait in days as planned (this plan was not simulated)") +
    (classed ? ", over every priority class (each class's is below)" : "");
  return `<div class="wide"><table id="waits-table"><caption>${caption}</caption>
    <thead><tr><th scope="col">district</th>${services.map((s) =>
      `<th scope="col">${esc(serviceName(s))}</th>`).join("")}</tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>${flagLegend(sims)}`;
}

// "1.3 (sim 9.9)", and a flagged pair marked by a sign and words, not by colour alone.
function waitCell(wait, sim) {
  const lp = `<span class="lp">${fmtOrNA(wait?.avg_wait_days, 1)}</span>`;
  if (!sim) return `<td>${lp}</td>`;
  const simulated = ` <span class="sim">(sim ${fmtOrNA(sim.sim_wait_days, 1)})</span>`;
  if (!sim.flagged) return `<td>${lp}${simulated}</td>`;
  const why = flagReason(sim);
  return `<td class="flagged" title="${esc(why)}">${lp}${simulated}` +
    `<span class="flag" aria-hidden="true">${FLAG_MARK}</span><span class="visually-hidden"> (${esc(why)})</span></td>`;
}

// Outside the table's scrolling box, so a narrow screen still shows it whole.
function flagLegend(sims) {
  if (!sims.length) return "";
  const flagged = sims.filter((s) => s.flagged).length;
  const text = flagged
    ? `${FLAG_MARK} marks the ${flagged} of ${sims.length} where the simulated wait differs from ` +
      `the planned by more than ${FLAG_PERCENT}%.`
    : `No simulated wait differs from the planned by more than ${FLAG_PERCENT}%.`;
  return `<p class="muted" id="waits-legend">${text}</p>`;
}

function flagReason(sim) {
  const pct = sim.difference_pct;
  if (pct == null) return "flagged: the simulation's waiting differs from the plan's";
  const way = pct >= 0 ? "longer" : "shorter";
  return `flagged: the simulated wait is ${fmt(Math.abs(pct))}% ${way} than planned`;
}

function waitsNote(sims) {
  const simulated = sims.length
    ? " Sim: the same plan run day by day with referrals arriving at random, as they do; " +
      "short queues planned to run at full use wait longer than the plan predicts, because " +
      "time left idle on a quiet day cannot serve the people who arrive the next."
    : "";
  return `<p class="muted" id="waits-note">Planned: the plan's average wait, the days people ` +
    `wait in all divided by the people served.${simulated}</p>`;
}

// The plan against simple ways of sharing the same staff spend. vs_plan_pct is how much more
// weighted waiting a baseline has than the plan (negative: less).
const BASELINE_NAMES = {
  plan: "the plan",
  proportional_to_demand: "allocating hours in proportion to demand",
  carried_forward: "carrying today's staffing forward",
};

function againstPlan(pct) {
  if (pct == null) return "n/a";
  const text = fmt(Math.abs(pct), 1);
  if (!/[1-9]/.test(text)) return "the same weighted waiting";
  return `${text}% ${pct > 0 ? "more" : "less"} weighted waiting`;
}

function baselinesTable(baselines) {
  if (!baselines.length) return "";
  const rows = baselines.map((b) => {
    const name = BASELINE_NAMES[b.name] ?? String(b.name).replace(/_/g, " ");
    const vs = b.name === "plan" ? "" : againstPlan(b.vs_plan_pct);
    return `<tr><th scope="row">${esc(name)}</th><td>${fmtOrNA(b.weighted_wait_days)}</td>` +
      `<td>${vs}</td><td>${fmtOrNA(b.dtoc_days)}</td></tr>`;
  });
  return `<h3 id="baselines-heading">Against simple allocations</h3>
    <div class="wide"><table id="baselines-table"><caption>The same staff and agency spend shared by a simple rule,
    its waits worked out by the plan's own model. The plan makes the weighted waiting least
    (each day waited times its service's weight, a day in a hospital bed weighted again), not
    the delayed days alone, so a rule that gives reablement and domiciliary care more hours at
    the other services' cost can have fewer delayed days and more weighted waiting</caption>
    <thead><tr><th scope="col">allocation</th><th scope="col">weighted waiting days</th>
    <th scope="col">against the plan</th><th scope="col">delayed days in hospital (DTOC)</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>`;
}

// The plan's hours held fixed while a whole year's referrals come in low or high (each series'
// demand scaled by how far its forecast's backtest totals missed, the lowest and highest tenth):
// per service, the whole area's average wait.
const SCENARIOS = ["low", "planned", "high"];

function riskTable(risk) {
  if (!risk.length) return "";
  const totals = new Map();  // service -> scenario -> {days, served, dtoc, left}
  for (const r of risk) {
    const byScenario = totals.get(r.service) ?? new Map();
    const t = byScenario.get(r.scenario) ?? { days: 0, served: 0, dtoc: 0, left: 0 };
    t.days += r.person_days ?? 0; t.served += r.cases_served ?? 0;
    t.dtoc += r.dtoc_days ?? 0; t.left += r.end_backlog_cases ?? 0;
    byScenario.set(r.scenario, t);
    totals.set(r.service, byScenario);
  }
  const wait = (t) => (t && t.served > 0 ? fmt(t.days / t.served, 1) : "n/a");
  const rows = [...totals].map(([service, by]) => {
    return `<tr><th scope="row">${esc(serviceName(service))}</th>${SCENARIOS.map((s) =>
      `<td>${wait(by.get(s))}</td>`).join("")}<td>${fmtOrNA(by.get("high")?.left, 0)}</td></tr>`;
  });
  const dtoc = SCENARIOS.map((s) => [...totals.values()].reduce(
    (sum, by) => sum + (by.get(s)?.dtoc ?? 0), 0));
  const referred = SCENARIOS.map((s) => risk.filter((r) => r.scenario === s &&
    r.service !== "dfg_works").reduce((sum, r) => sum + (r.new_cases ?? 0), 0));
  return `<h3 id="risk-heading">If referrals come in low or high</h3>
    <div class="wide"><table id="risk-table"><caption>Average wait in days over the whole area with the plan's
    hours unchanged, if the year's referrals run as far below (low) or above (high) the
    forecast as its totals did in the lowest and highest tenth of backtest years (never above
    or below the forecast itself). Referrals over the plan: ${referred.map((d) => fmt(d)).join(
      " / ")}; delayed days in hospital: ${dtoc.map((d) => fmt(d)).join(" / ")} (low / planned
    / high)</caption>
    <thead><tr><th scope="col">service</th><th scope="col">low</th><th scope="col">planned</th>
    <th scope="col">high</th><th scope="col">cases still waiting at the end, high</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>`;
}

// Demand the plan provided for, summed over districts: the forecast, and what was planned
// (a config's winter section raises winter weeks; see GET /v1/winter and the README).
function demandByWeek(rows, service) {
  const weeks = new Map();
  for (const d of rows) {
    if (service && d.service !== service) continue;
    const w = weeks.get(d.ds) ?? { ds: d.ds, forecast: 0, planned: 0 };
    w.forecast += Number(d.forecast_cases) || 0;
    w.planned += Number(d.planned_cases) || 0;
    weeks.set(d.ds, w);
  }
  return [...weeks.values()].sort((a, b) => a.ds.localeCompare(b.ds));
}

const raised = (w) => w.planned > w.forecast * (1 + 1e-9) + 1e-9;  // above it by more than rounding

// How the config's winter section raised winter weeks (`winter` may be null: config unread).
function winterBasis(winter, word) {
  // the index raises each district's normal week (its mean forecast over the year ahead), so
  // it lifts the weeks whose forecast dips below normal (holidays) most, not only the peaks
  const index = winter?.pressure_series ? `the hospital-pressure index (${winter.pressure_series}: ` +
    `each district's normal ${word}, its mean forecast over the year ahead, raised by the index, ` +
    `where that is above the ${word}'s forecast, so winter holiday dips are lifted most)` : "";
  const quantile = winter?.quantile_column ? `the forecast's ${winter.quantile_column}` : "";
  if (index && quantile) return `by ${index} or to ${quantile}, whichever is higher`;
  if (quantile) return `to ${quantile}`;
  return `by ${index || "the hospital-pressure index"}`;
}

function demandCaption(weeks, winter, word) {
  const up = weeks.filter(raised);
  if (!up.length) return `Demand is planned at the forecast in every ${word}.`;
  return `Winter ${word}s are planned above the forecast ${winterBasis(winter, word)}: ${up.length} of ` +
    `${periods(weeks.length, word)}, ${fmt(sum(up, "planned") - sum(up, "forecast"))} more cases in all.`;
}

// ---- Line charts ----
// Each chart is drawn at the width it shows at (its viewBox is its box's width in CSS pixels), so
// its text is CHART_TEXT px on a laptop and a wide screen alike (a 600-unit chart scaled into a
// 400 px card wrote 8 px labels); it is drawn again when its box changes width.
const CHART_TEXT = 13;  // px: labels, scale and ticks
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function chartWidth(box) {
  const width = Math.round(box.clientWidth);
  return width >= 200 ? width : 600;  // a box not laid out yet: drawn again once it is
}

const chartDraws = new WeakMap();  // box -> { width, draw }
const chartResized = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
  for (const { target } of entries) {
    if (!target.isConnected) { chartResized.unobserve(target); continue; }
    const drawn = chartDraws.get(target);
    if (drawn && Math.abs(chartWidth(target) - drawn.width) > 1) drawChart(target, drawn.draw);
  }
});

// draw(box, width) fills the box with its chart drawn `width` px wide.
function drawChart(box, draw) {
  const width = chartWidth(box);
  draw(box, width);
  chartDraws.set(box, { width, draw });
  chartResized?.observe(box);
}

// A label's width in px, as the page's font draws it (a canvas measures it without drawing).
let measurer;
function textWidth(text, size = CHART_TEXT) {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (!measurer) return String(text).length * size * 0.62;
  measurer.font = `${size}px ${getComputedStyle(document.body).fontFamily}`;
  return measurer.measureText(String(text)).width;
}

// The dates a chart spans, at its top right: the first point's to the last's.
function dateSpan(dates, right) {
  if (!dates.length) return "";
  const first = String(dates[0]).slice(0, 10), last = String(dates[dates.length - 1]).slice(0, 10);
  return `<text x="${right}" y="14" font-size="${CHART_TEXT}" text-anchor="end" class="axis-dates">${esc(first)} to ${esc(last)}</text>`;
}

const dayOf = (ds) => Date.parse(String(ds).slice(0, 10));  // a point's date, as UTC midnight

// Where time t falls along points dated `times` and drawn at x(i): between its two neighbours,
// so weekly and monthly points alike put a month's first day where it falls.
function xOfTime(t, times, x) {
  for (let i = 1; i < times.length; i++) {
    if (t <= times[i]) return x(i - 1) + ((t - times[i - 1]) / (times[i] - times[i - 1])) * (x(i) - x(i - 1));
  }
  return x(times.length - 1);
}

// The first days of months from `first` to `last`, every `step` months counted from January
// (quarters start in January, April, July and October; 2-yearly ticks in even years).
function monthStarts(first, last, step) {
  const start = new Date(first);
  let m = start.getUTCFullYear() * 12 + start.getUTCMonth() + (start.getUTCDate() > 1 ? 1 : 0);
  m = Math.ceil(m / step) * step;
  const out = [];
  for (let t = Date.UTC(Math.floor(m / 12), m % 12, 1); t <= last; m += step, t = Date.UTC(Math.floor(m / 12), m % 12, 1)) {
    out.push({ t, year: Math.floor(m / 12), month: m % 12 });
  }
  return out;
}

// Months between labelled ticks, finest first; between labels, a shorter mark each minor step.
const TICK_STEPS = [1, 3, 6, 12, 24, 60, 120];
const MINOR_STEP = { 3: 1, 6: 3, 12: 3, 24: 12, 60: 12, 120: 12 };
const TICK_GAP = 12;  // px at least between two tick labels

// The labelled ticks along a chart's foot: the finest step whose labels fit side by side, each
// "Jan 2026"'s year said in January (or on the first label, if none is January), so a peak can be
// read to its month. Each tick: its time, its x, its label and where the label is centred.
function dateTicks(times, x, W) {
  const first = times[0], last = times[times.length - 1];
  for (const step of TICK_STEPS) {
    const ticks = monthStarts(first, last, step);
    if (!ticks.length) return { step, ticks };
    const yearless = !ticks.some((k) => k.month === 0);
    const placed = ticks.map((k, i) => {
      const label = k.month === 0 || (yearless && i === 0) ? `${MONTHS[k.month]} ${k.year}` : MONTHS[k.month];
      const at = xOfTime(k.t, times, x), half = textWidth(label) / 2;
      return { ...k, at, label, half, centre: Math.min(Math.max(at, half + 1), W - half - 1) };
    });
    const fits = placed.every((k, i) => i === 0 || k.centre - k.half >= placed[i - 1].centre + placed[i - 1].half + TICK_GAP);
    if (fits || step === TICK_STEPS[TICK_STEPS.length - 1]) return { step, ticks: placed };
  }
  return { step: 0, ticks: [] };
}

const isoDay = (t) => new Date(t).toISOString().slice(0, 10);

// A line chart's frame, W by H px: what a point counts at the top left and the dates spanned at
// the top right; the scale's top and bottom figures at the left of faint lines at the plot's top
// and foot; month ticks along the foot. `under` goes beneath the data, `over` above it; x(i) and
// y(v) place the i-th point (of `dates`) and a value.
function chartFrame({ W, H, lo, hi, unit, dates }) {
  const n = dates.length, times = dates.map(dayOf), now = Date.now();
  const dated = n > 1 && times[0] <= now && now <= times[n - 1];  // today falls in the chart
  // a row above the plot for "today" where it is marked: drawn in the plot, it lay over the
  // lines and bands (at the plot's top, the highest week's)
  const top = dated ? 44 : 30, foot = H - 28, right = W - 12;
  const hiText = fmt(hi), loText = fmt(lo);
  const left = Math.ceil(Math.max(textWidth(hiText), textWidth(loText))) + 10;
  const x = (i) => left + (i * (right - left)) / Math.max(1, n - 1);
  const y = (v) => foot - ((v - lo) * (foot - top)) / Math.max(1e-9, hi - lo);
  const { step, ticks } = times.length > 1 && times[n - 1] > times[0] ? dateTicks(times, x, W) : { step: 0, ticks: [] };
  const majors = new Set(ticks.map((k) => k.t));
  const minors = MINOR_STEP[step] ? monthStarts(times[0], times[n - 1], MINOR_STEP[step]).filter((k) => !majors.has(k.t)) : [];
  const text = `font-size="${CHART_TEXT}" fill="#4a5563"`;
  // today, where the chart's dates span it: what is already over (a plan made from an old
  // history, the demo's) reads as past, not as weeks ahead. Its label stands in the row above
  // the plot, over its line (kept between the scale's figures and the chart's right edge), the
  // line running up to it.
  const at = n > 1 ? xOfTime(now, times, x) : 0, half = textWidth("today") / 2;
  const centre = Math.min(Math.max(at, left + half), right - half);
  const today = dated
    ? `<g class="today"><line x1="${at}" x2="${at}" y1="${top - 6}" y2="${foot}" stroke="#b3541e" stroke-width="1"
        stroke-dasharray="2 2"/><text x="${centre}" y="${top - 9}" text-anchor="middle" font-size="${CHART_TEXT}"
        fill="#b3541e" class="axis-today">today</text></g>`
    : "";
  const under = `<g class="grid" stroke="#e6e9ed" stroke-width="1">
      <line x1="${left}" x2="${right}" y1="${top}" y2="${top}"/>
      ${ticks.map((k) => `<line x1="${k.at}" x2="${k.at}" y1="${top}" y2="${foot}"/>`).join("")}
    </g>`;
  const over = `<g class="axis" stroke="#8a96a3" stroke-width="1">
      <line x1="${left}" x2="${right}" y1="${foot}" y2="${foot}"/>
      <line x1="${left - 4}" x2="${left}" y1="${top}" y2="${top}"/><line x1="${left - 4}" x2="${left}" y1="${foot}" y2="${foot}"/>
      ${ticks.map((k) => `<line class="tick" x1="${k.at}" x2="${k.at}" y1="${foot}" y2="${foot + 5}"/>`).join("")}
      ${minors.map((k) => `<line class="tick minor" x1="${xOfTime(k.t, times, x)}" x2="${xOfTime(k.t, times, x)}" y1="${foot}" y2="${foot + 3}"/>`).join("")}
    </g>
    <text x="0" y="14" font-size="${CHART_TEXT}" class="axis-unit">${esc(unit)}</text>
    ${dateSpan(dates, right)}
    <text x="${left - 6}" y="${top + 4.5}" ${text} text-anchor="end" class="axis-top">${hiText}</text>
    <text x="${left - 6}" y="${foot + 4.5}" ${text} text-anchor="end" class="axis-bottom">${loText}</text>
    ${ticks.map((k) => `<text x="${k.centre}" y="${foot + 20}" ${text} text-anchor="middle" class="axis-tick" data-date="${isoDay(k.t)}">${k.label}</text>`).join("")}
    ${today}`;
  return { x, y, top, foot, under, over };
}

function demandChart(weeks, W, word) {
  const H = 200;
  const values = weeks.flatMap((w) => [w.forecast, w.planned]);
  // from 0, as the queue chart: cut off at the smallest week, a summer dip of a quarter read
  // as a collapse
  const lo = Math.min(0, ...values), hi = Math.max(...values);
  const { x, y, under, over } = chartFrame({ W, H, lo, hi, unit: `cases a ${word}`, dates: weeks.map((w) => w.ds) });
  const line = (key) => weeks.map((w, i) => `${x(i)},${y(w[key])}`).join(" ");
  return `<svg viewBox="0 0 ${W} ${H}" role="img"
      aria-label="forecast and planned cases a ${word}, on a scale from ${fmt(lo)} to ${fmt(hi)} (the table below has the figures)">
    ${under}
    <polyline class="forecast" points="${line("forecast")}" fill="none" stroke="#8a96a3" stroke-width="1.5" stroke-dasharray="5 3"/>
    <polyline class="planned" points="${line("planned")}" fill="none" stroke="#17324d" stroke-width="2"/>
    ${over}
  </svg>
  <p class="muted">Cases a ${word}, summed over districts: dark line planned, grey dashed line forecast.</p>`;
}

function demandTable(weeks, word) {
  const rows = weeks.map((w) => {
    const above = w.forecast > 0 && raised(w) ? `+${fmt(100 * (w.planned / w.forecast - 1), 1)}%` : "0%";
    return `<tr><td>${w.ds.slice(0, 10)}</td><td>${fmt(w.forecast, 1)}</td><td>${fmt(w.planned, 1)}</td><td>${above}</td></tr>`;
  });
  return `<div class="scroll"><table id="demand-table"><thead><tr><th scope="col">${word} starting</th>
    <th scope="col">forecast cases</th><th scope="col">planned cases</th><th scope="col">planned above forecast</th>
    </tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function renderDemand(plan, winter) {
  const section = document.querySelector("#demand");
  const rows = plan.result.demand || [];
  section.innerHTML = "<h2>Demand planned for, whole area</h2>";
  if (!rows.length) {
    section.insertAdjacentHTML("beforeend", '<p class="muted">This plan does not record its demand.</p>');
    return;
  }
  section.insertAdjacentHTML("beforeend", `<label for="demand-service">Service</label>
    <select id="demand-service"></select><div id="demand-view"></div>`);
  const select = section.querySelector("#demand-service");
  select.append(new Option("all services", ""), ...[...new Set(rows.map((d) => d.service))].map((s) => new Option(serviceName(s), s)));
  const show = () => {
    const weeks = demandByWeek(rows, select.value), word = periodWord(plan);
    const view = section.querySelector("#demand-view");
    view.innerHTML = `<div id="demand-chart"></div><p class="muted" id="demand-caption"></p>${demandTable(weeks, word)}`;
    drawChart(view.querySelector("#demand-chart"), (box, W) => { box.innerHTML = demandChart(weeks, W, word); });
    view.querySelector("#demand-caption").textContent = demandCaption(weeks, winter, word);  // ids as text
  };
  select.onchange = show;
  show();
}

// Cases waiting at the end of each week, whole area, one service at a time (each queue is of
// its own thing: assessments, care packages, DFG works), from the plan's backlog rows: where a
// queue builds up (in winter, or as capital runs out) or runs down, which totals and averages hide.
const BACKLOG_ORDER = ["ot", "hao", "reablement", "domcare", "dfg_works"];

function backlogByWeek(rows, service) {
  const weeks = new Map();
  for (const b of rows) {
    if (b.service !== service) continue;
    const ds = String(b.ds).slice(0, 10);
    weeks.set(ds, (weeks.get(ds) || 0) + (Number(b.backlog_cases) || 0));
  }
  return [...weeks].sort((a, b) => a[0].localeCompare(b[0])).map(([ds, cases]) => ({ ds, cases }));
}

function backlogChart(weeks, W, service, word) {
  const H = 200;
  const values = weeks.map((w) => w.cases);
  const lo = Math.min(0, ...values), hi = Math.max(1, ...values);  // from 0: a queue's size
  const { x, y, under, over } = chartFrame({ W, H, lo, hi, unit: "cases waiting", dates: weeks.map((w) => w.ds) });
  const line = weeks.map((w, i) => `${x(i)},${y(w.cases)}`).join(" ");
  return `<svg viewBox="0 0 ${W} ${H}" role="img"
      aria-label="${esc(serviceName(service))} cases waiting at the end of each ${word}, on a scale from ${fmt(lo)} to ${fmt(hi)} (the table below has the figures)">
    ${under}
    <polyline class="backlog" points="${line}" fill="none" stroke="#17324d" stroke-width="2"/>
    ${over}
  </svg>`;
}

function renderBacklog(plan) {
  const section = document.querySelector("#backlog");
  if (!section) return;
  const rows = plan.result.backlog || [];
  section.innerHTML = "<h2>Cases waiting, whole area</h2>";
  if (!rows.length) {
    section.insertAdjacentHTML("beforeend", '<p class="muted" id="backlog-none">This plan records no queues.</p>');
    return;
  }
  const present = new Set(rows.map((b) => b.service));
  const services = [...BACKLOG_ORDER.filter((s) => present.has(s)), ...[...present].filter((s) => !BACKLOG_ORDER.includes(s)).sort()];
  section.insertAdjacentHTML("beforeend", `<label for="backlog-service">Service</label>
    <select id="backlog-service"></select><div id="backlog-view"></div>`);
  const select = section.querySelector("#backlog-service");
  select.append(...services.map((s) => new Option(serviceName(s), s)));
  const show = () => {
    const weeks = backlogByWeek(rows, select.value), word = periodWord(plan);
    const first = weeks[0]?.cases ?? 0, end = weeks[weeks.length - 1]?.cases ?? 0;
    const most = weeks.reduce((top, w) => (w.cases > top.cases ? w : top), weeks[0] ?? { ds: "", cases: 0 });
    const view = section.querySelector("#backlog-view");
    const table = weeks.map((w) => `<tr><td>${esc(w.ds)}</td><td>${fmt(w.cases, 1)}</td></tr>`).join("");
    view.innerHTML = `<div id="backlog-chart"></div>
      <p class="muted" id="backlog-caption"></p>
      <div class="scroll"><table id="backlog-table"><thead><tr><th scope="col">${word} starting</th>
      <th scope="col">cases waiting at its end</th></tr></thead><tbody>${table}</tbody></table></div>`;
    drawChart(view.querySelector("#backlog-chart"), (box, W) => { box.innerHTML = backlogChart(weeks, W, select.value, word); });
    view.querySelector("#backlog-caption").textContent =  // as text: ids are the config's
      `${serviceName(select.value)}, summed over districts and priorities: ${fmt(first, 1)} cases waiting ` +
      `after the first ${word}, ${fmt(end, 1)} after the last; the most, ${fmt(most.cases, 1)}, in the ${word} of ${most.ds}.`;
  };
  select.onchange = show;
  show();
}

// Shadow prices by the kind of constraint (a pound of revenue, of DFG capital, an hour of a
// team's staff, ...): their units differ, so each kind gets its own few largest, never one list
// where pounds crowd out hours. A period's statement names its week.
const SHADOW_KINDS = {
  revenue: "Revenue budget (staff and agency cost less fee and charge income)",
  capital: "DFG capital (a district's grant, over the plan)",
  team_hours_max: "Staff hours (a team's most hours in a period)",
  team_hours_min: "Staff hours floor (a team's fewest hours in a period)",
  works_limit: "DFG works limit (a district's most works completed in a period)",
};
const SHADOW_TOP = 2;  // per kind (five kinds: ten in all); 8 when a plan's prices carry no kind

function periodDates(plan) {
  const dates = new Map();
  for (const rows of [plan.result.revenue, plan.result.hours, plan.result.demand]) {
    for (const r of rows || []) if (r.period != null && r.ds) dates.set(String(r.period), String(r.ds).slice(0, 10));
  }
  return dates;
}

// "Period 32: an extra ..." as "Week of 2026-08-10 (period 32): an extra ...", and a bound the
// API wrote as 1.01215e+06 as 1,012,150.
function shadowText(statement, dates, word) {
  const Word = word[0].toUpperCase() + word.slice(1);
  return String(statement ?? "")
    .replace(/^Period (\d+):/, (whole, n) => (dates.has(n) ? `${Word} of ${dates.get(n)} (period ${n}):` : whole))
    .replace(/\b\d+(?:\.\d+)?e[+-]?\d+\b/gi, (m) => fmt(Number(m)));
}

const kindRank = (kind) => {  // the kinds above in their order, any other after them
  const i = Object.keys(SHADOW_KINDS).indexOf(kind);
  return i < 0 ? Object.keys(SHADOW_KINDS).length : i;
};

function renderShadow(plan) {
  const worth = (p) => Math.abs(p.value ?? p.dual);
  const prices = [...(plan.result.shadow_prices || [])].filter((p) => worth(p) > 1e-9)
    .sort((a, b) => worth(b) - worth(a));
  const dates = periodDates(plan);
  const kinds = [...new Set(prices.map((p) => p.constraint ?? ""))]
    .sort((a, b) => kindRank(a) - kindRank(b));
  const list = (items) => `<ul>${items.map((p) => `<li>${esc(shadowText(p.statement, dates, periodWord(plan)))}</li>`).join("")}</ul>`;
  let body;
  if (!SOLVED_STATUSES.includes(plan.status)) {  // not "no constraint binds": no plan at all
    body = `<p class="muted" id="shadow-none">This plan records no shadow prices: its solver ended with status ${esc(plan.status)}, without a plan.</p>`;
  } else if (!prices.length) body = "<ul><li>No constraint binds.</li></ul>";
  else if (kinds.length === 1 && !kinds[0]) body = list(prices.slice(0, 8));
  else {
    body = `<p class="muted" id="shadow-note">The ${SHADOW_TOP} largest of each kind: the weighted waiting
      days one more pound, hour or works completion would save (or a floor hour adds), each within the range it names.</p>` +
      kinds.map((k) => `<h3 class="shadow-kind">${esc(SHADOW_KINDS[k] ?? k.replace(/_/g, " "))}</h3>` +
        list(prices.filter((p) => (p.constraint ?? "") === k).slice(0, SHADOW_TOP))).join("");
  }
  document.querySelector("#shadow").innerHTML = `<h2>What an extra pound or hour is worth</h2>${body}`;
}

// A total (kind "total" in GET /v1/series) is a forecast only: the sum of its districts'
// forecasts, with no history of its own; its intervals and backtest metrics come from the
// districts' backtests added up (the run reconciles them fold by fold).
const isTotal = (kind) => kind === "total";

// What one point of a series counts: its forecast's step between periods (weekly referrals,
// monthly delayed days or admissions), so a monthly count is not read as a week's.
function perPeriod(points) {
  if (points.length < 2) return "a period";
  const days = (Date.parse(points[1].ds) - Date.parse(points[0].ds)) / 86400000;
  if (days === 7) return "a week";
  if (days >= 28 && days <= 31) return "a month";
  if (days === 1) return "a day";
  return `per ${Math.round(days)} days`;
}

// "a week" as a chart's title says it: "per week", "per month", "per 14 days".
const perTitle = (per) => per.replace(/^an? /, "per ");

function renderChart(forecast, history, kind, source = null) {
  const pts = forecast.points;
  if (!pts.length) return;
  const chart = document.querySelector("#chart");
  const changed = historyChanged(forecast, source);
  chart.innerHTML = `<div id="chart-figure"></div>
    <p class="muted" id="chart-caption"></p>
    <p class="muted" id="chart-accuracy"></p>${changed ? '<p class="warnings" id="chart-history-changed" role="note"></p>' : ""}
    ${forecastTable(forecast, history)}`;
  drawChart(chart.querySelector("#chart-figure"), (box, W) => forecastChart(box, W, forecast, history));
  // Ids and model names go in as text, never markup: a team's id comes from a stored config.
  chart.querySelector("#chart-caption").textContent = caption(forecast, history, kind);
  chart.querySelector("#chart-accuracy").textContent = accuracy(forecast, kind);
  if (changed) chart.querySelector("#chart-history-changed").textContent = changed;
}

// An upload that changed the series' stored values after the forecast's run started
// (`history_changed`): the chart then draws the history as stored now beside a forecast of the
// older one, so the card says so, and what makes a forecast of the new history, as a warning
// (the plan's warnings' style and role), not a muted caption to be read past. `source` is the
// series' newest import (GET /v1/series), which names the upload. "" when nothing changed.
function historyChanged(forecast, source) {
  if (forecast.history_changed !== true) return "";
  const from = source ? ` (the newest from ${source})` : "";
  return `The history of ${forecast.series_id} changed after this forecast was made ` +
    `(run #${forecast.run_id}), by an upload${from}: it is of the older history until the next ` +
    "pipeline run (POST /v1/runs, or the weekly schedule), while the grey line shows the history " +
    "as stored now.";
}

// The chart's figures as a table, folded away under it: a screen reader cannot read a line off
// an SVG, and the demand and backlog charts already have theirs.
function forecastTable(forecast, history) {
  const interval = (p, level) => `${fmt(p[`lo-${level}`], 1)} to ${fmt(p[`hi-${level}`], 1)}`;
  const seen = history.map((h) => `<tr><td>${esc(String(h.ds).slice(0, 10))}</td><td>${fmt(h.y, 1)}</td>` +
    "<td></td><td></td><td></td></tr>");
  const ahead = forecast.points.map((p) => `<tr><td>${esc(String(p.ds).slice(0, 10))}</td><td></td>` +
    `<td>${fmt(p.mean, 1)}</td><td>${interval(p, 80)}</td><td>${interval(p, 95)}</td></tr>`);
  return `<details class="chart-table" id="chart-table"><summary>The chart's figures as a table</summary>
    <div class="scroll"><table id="chart-figures"><caption>${esc(forecast.series_id)}, ${perTitle(perPeriod(forecast.points))}: observed, then forecast</caption>
    <thead><tr><th scope="col">period starting</th><th scope="col">observed</th><th scope="col">forecast</th>
    <th scope="col">80% interval</th><th scope="col">95% interval</th></tr></thead>
    <tbody>${[...seen, ...ahead].join("")}</tbody></table></div></details>`;
}

function forecastChart(box, W, forecast, history) {
  const pts = forecast.points;
  const per = perPeriod(pts);
  const H = 220;
  const values = [...history.map((h) => h.y), ...pts.map((p) => p["lo-95"]), ...pts.map((p) => p["hi-95"])];
  const lo = Math.min(...values), hi = Math.max(...values);
  const dates = [...history.map((h) => h.ds), ...pts.map((p) => p.ds)];
  const { x, y, top, foot, under, over } = chartFrame({ W, H, lo, hi, unit: perTitle(per), dates });
  const xf = (i) => x(history.length + i);
  const band = (a, b) => pts.map((p, i) => `${xf(i)},${y(p[a])}`).join(" ") + " " +
    pts.map((p, i) => `${xf(i)},${y(p[b])}`).reverse().join(" ");
  const line = pts.map((p, i) => `${xf(i)},${y(p.mean)}`).join(" ");
  // Each band's edges drawn as lines of 3:1 or more against white and both fills (WCAG
  // 1.4.11): the light fills alone are 1.9:1 and 1.35:1; dotted the 80%, dashed the 95%
  const edge = (key, dash, level) => `<polyline class="edge-${level}" points="${
    pts.map((p, i) => `${xf(i)},${y(p[key])}`).join(" ")}" fill="none" stroke="#2f5f94" stroke-width="1" stroke-dasharray="${dash}"/>`;
  const edges = [edge("lo-95", "5 3", 95), edge("hi-95", "5 3", 95), edge("lo-80", "2 2", 80),
    edge("hi-80", "2 2", 80)].join("");
  const past = history.length ? `<polyline class="history" points="${
    history.map((h, i) => `${x(i)},${y(h.y)}`).join(" ")}" fill="none" stroke="#8a96a3" stroke-width="1.2"/>` : "";
  const seen = history.map((h) => h.ds.slice(0, 10));
  const marks = forecast.level_shifts.map((s) => seen.indexOf(s.ds.slice(0, 10))).filter((i) => i >= 0)
    .map((i) => `<line x1="${x(i)}" x2="${x(i)}" y1="${top}" y2="${foot}" stroke="#a01c1c" stroke-dasharray="4 3"/>`)
    .join("");
  box.innerHTML = `
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-describedby="chart-caption chart-accuracy">
      ${under}
      <polygon points="${band("lo-95", "hi-95")}" fill="#cfe0f1"/>
      <polygon points="${band("lo-80", "hi-80")}" fill="#9fc2e4"/>
      ${edges}
      ${past}
      ${marks}
      <polyline class="mean" points="${line}" fill="none" stroke="#17324d" stroke-width="2"/>
      ${over}
    </svg>`;
  box.querySelector("svg").setAttribute("aria-label",
    `forecast of ${forecast.series_id}, ${per}, on a scale from ${fmt(lo)} to ${fmt(hi)}`);
}

// The chosen model as the caption names it: a combination with the models it combined (the
// backtest's `members`, best first), "mean_best2 (ets + theta)", so a planner can tell what
// was averaged; any other model (or a run stored before members were recorded) by name alone.
function modelName(forecast) {
  const chosen = forecast.backtest.find((m) => m.chosen);
  const members = chosen?.members || [];
  return members.length ? `${forecast.model} (${members.join(" + ")})` : forecast.model;
}

function caption(forecast, history, kind) {
  const pts = forecast.points, from = pts[0].ds.slice(0, 10);
  if (isTotal(kind)) {
    return `${forecast.series_id}: a total, the sum of its districts' forecasts (${modelName(forecast)}), ` +
      `for ${pts.length} periods from ${from}; no history of its own; ` +
      "shaded: 80% (edged dotted) and 95% (edged dashed) intervals, calibrated on the total's own backtest";
  }
  return `${forecast.series_id}: grey, the last ${history.length} observations; ` +
    `dark, model ${modelName(forecast)} for ${pts.length} periods from ${from}; ` +
    "shaded: 80% (edged dotted) and 95% (edged dashed) intervals";
}

// How good the chosen model has been in backtest, in words a planner can weigh.
function accuracy(forecast, kind) {
  const total = isTotal(kind);
  const chosen = forecast.backtest.find((m) => m.chosen);
  const m = chosen ? chosen.metrics : {};
  const parts = [];
  if (m.mase != null) parts.push(`backtest MASE ${m.mase.toFixed(2)} (below 1 beats repeating last year)`);
  if (m.coverage_80 != null) parts.push(`80% interval held ${Math.round(100 * m.coverage_80)}% of backtest outcomes`);
  if (total) {
    parts.push("scored against the districts' histories added up");
    return parts.join("; ");
  }
  const shifts = forecast.level_shifts.map(
    (s) => `${s.ds.slice(0, 7)} (${s.ratio >= 1 ? "+" : ""}${Math.round(100 * (s.ratio - 1))}%)`);
  parts.push(shifts.length ? `level shifts: ${shifts.join(", ")} (dashed)` : "no level shift found");
  return parts.join("; ");
}

// Series ids hold slashes that are part of the route; anything else in them is escaped.
const seriesPath = (id) => id.split("/").map(encodeURIComponent).join("/");

async function showSeries(series) {
  const path = seriesPath(series.id);
  const kind = series.kind || "observed";
  const [forecast, history] = await Promise.all([
    getJSON(`/v1/forecasts/${path}`),
    isTotal(kind) ? [] : getJSON(`/v1/observations/${path}?last=104`)]);
  renderChart(forecast, history, kind, series.source);
}

// The demo's invented history is labelled wherever a series is offered, so it is never read as
// a council's own figures (GET /v1/series gives each series' source).
const SYNTHETIC_SOURCE = "synthetic demo";
const isSynthetic = (s) => s.source === SYNTHETIC_SOURCE;

// Observed series first, then the totals in their own group, so a planner can tell them apart.
function seriesGroup(label, series) {
  const group = document.createElement("optgroup");
  group.label = label;
  for (const s of series) {
    const notes = [isSynthetic(s) ? "synthetic demo" : "", isForecast(s) ? "" : "no forecast yet"]
      .filter(Boolean);
    group.append(new Option(notes.length ? `${s.id} (${notes.join("; ")})` : s.id, s.id));
  }
  return group;
}

// Whether a pipeline run has forecast the series: one stored since the newest run has none
// (GET /v1/series gives it `forecast_run_id` null).
const isForecast = (s) => s.forecast_run_id != null;

// An empty database has no series to pick: the card says so, and how forecasts are made.
function showNoForecasts(select) {
  select.replaceChildren(new Option("no series yet", ""));
  select.disabled = true;
  const chart = document.querySelector("#chart");
  chart.innerHTML = `<p class="muted" id="forecast-none">No forecasts yet: no history is stored.
    An administrator uploads referral history (POST /v1/observations, or homeward import FILE.csv)
    and runs the pipeline (POST /v1/runs, or homeward demo for the synthetic demo); forecasts
    appear here after its first run.</p>`;
}

// Series stored but none forecast yet (imported, and no pipeline run since): one state, said
// once, naming the series and what forecasts them, rather than a disabled picker beside an
// error about the series it could not draw.
function showUnforecast(select, series) {
  select.replaceChildren(new Option("no forecasts yet", ""));
  select.disabled = true;
  const ids = series.map((s) => s.id);
  const named = ids.length > 5 ? `${ids.slice(0, 5).join(", ")} and ${ids.length - 5} more` : ids.join(", ");
  const chart = document.querySelector("#chart");
  chart.innerHTML = '<p class="muted" id="forecast-unmade"></p>';
  chart.querySelector("#forecast-unmade").textContent = `No forecasts yet: ${ids.length} ` +
    `series ${ids.length === 1 ? "is" : "are"} stored (${named}), but no pipeline run has forecast ` +
    `${ids.length === 1 ? "it" : "them"}. An administrator starts one (POST /v1/runs), or the ` +
    "weekly schedule will; forecasts appear here after it.";
}

// A chart that could not be drawn says why in the card; the series stay offered.
function showChartError(err) {
  showError("#chart", "", err.message);
  document.querySelector("#chart .error").id = "chart-error";
}

async function loadSeries() {
  const series = await getJSON("/v1/series");
  const select = document.querySelector("#series");
  if (!series.length) {
    showNoForecasts(select);
    return;
  }
  if (!series.some(isForecast)) {
    showUnforecast(select, series);
    return;
  }
  select.disabled = false;
  const byId = new Map(series.map((s) => [s.id, s]));
  const totals = series.filter((s) => isTotal(s.kind));
  select.replaceChildren(seriesGroup("Observed series", series.filter((s) => !isTotal(s.kind))));
  if (totals.length) {
    select.append(seriesGroup("Team and area totals (sum of their districts' forecasts)", totals));
  }
  select.onchange = () => showSeries(byId.get(select.value)).catch(showChartError);
  // the first referral series with a forecast: one stored since the newest run has none to draw
  const drawn = series.filter(isForecast);
  const first = drawn.find((s) => s.id.startsWith("referrals/")) || drawn[0];
  select.value = first.id;
  await showSeries(first).catch(showChartError);
}

// The fee box starts at the active config's rate (what the current plan charges), so a
// finance officer changes it from there; left empty when the config cannot be read. A config
// giving the fee by financial year (fees.by_year) has no one rate to start from or to change:
// the what-if and the sweep are then off, and a note says why and what to do instead.
function showActiveFee(active) {
  const box = document.querySelector("#fee");
  const rate = active?.body?.fees?.dfg_fee_rate;
  const byYear = active?.body?.fees?.by_year;
  feesByYear = byYear && typeof byYear === "object" ? Object.keys(byYear) : null;
  box.value = Number.isFinite(rate) ? String(Number((100 * rate).toFixed(4))) : "";
  box.removeAttribute("aria-invalid");
  showPlanAccess();
}

// The financial years of the active config's fees.by_year; null when it gives one fee rate.
let feesByYear = null;
const mayTryFee = () => mayPlan() && !feesByYear;

// The fee typed, in percent, as a fraction for the API; or an error saying what was wrong.
function parseFee(text) {
  const typed = text.trim().replace(/%$/, "");
  if (!typed) return { error: "Enter a DFG fee rate in percent, from 0 to 100 (e.g. 10)." };
  const percent = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(typed) ? Number(typed) : NaN;
  if (!Number.isFinite(percent)) return { error: `"${text.trim()}" is not a number: enter the fee rate in percent, e.g. 10.` };
  if (percent < 0 || percent > 100) return { error: `${typed}% is not a fee rate: it must be from 0 to 100 (percent).` };
  return { rate: percent / 100 };
}

// An entry error shown under its form and tied to its field, so a screen reader reads it
// with the field (aria-describedby) and at once (role alert); cleared when the entry is fixed.
function fieldError(field, hint, out, id, message) {
  field.setAttribute("aria-invalid", message ? "true" : "false");
  field.setAttribute("aria-describedby", message ? `${hint} ${id}` : hint);
  if (!message) return;
  out.replaceChildren(Object.assign(document.createElement("p"),
    { className: "error", id, textContent: message }));
  out.querySelector(".error").setAttribute("role", "alert");
}

// What the tab's key may do, from GET /v1/keys/me: null until it answers, and when it cannot
// (a server older than that route answers 404, a missing or refused key 401), then the page
// offers everything, as it did before, and a refused request says why.
let keyInfo = null;
let keyToken = 0;  // bumped by each key change: an answer about the old key is not shown
const mayPlan = () => !keyInfo || keyInfo.may.includes("plan");

// "planner, finance or admin"
const either = (names) => (names.length < 2 ? names.join("")
  : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`);

// The header says whose key it is ("viewer key 'bi-tool'") or that the server checks none.
function showKeyRole() {
  const role = document.querySelector("#key-role");
  if (!keyInfo) role.textContent = "";
  else if (keyInfo.auth === "off") role.textContent = "API keys are off on this server: every request acts as admin";
  else role.textContent = `${keyInfo.role} key '${keyInfo.name}'`;
}

// A key that may not plan keeps the what-if and sweep forms in view, disabled, with a note
// saying which keys may: a viewer learns it before asking, not from a refusal.
function showPlanAccess() {
  const may = mayPlan();
  const fee = mayTryFee();
  document.querySelector("#fee").disabled = !fee;
  document.querySelector("#sweep-rates").disabled = !fee;
  if (!whatIfRunning) document.querySelector("#fee-form button").disabled = !fee;
  document.querySelector("#sweep-form button").disabled = !fee;  // (load() stopped any sweep)
  const note = document.querySelector("#plan-role-note");
  note.hidden = may;
  note.textContent = may ? "" : `A ${keyInfo.role} key ('${keyInfo.name}') may not plan what-ifs ` +
    `or fee sweeps: they need a ${either(keyInfo.roles_allowing?.plan ?? [])} key. Paste one in ` +
    "the API key box at the top.";
  const years = document.querySelector("#fees-by-year-note");
  years.hidden = !feesByYear;
  years.textContent = !feesByYear ? "" : "The active config gives the DFG fee by financial " +
    `year (fees.by_year: ${feesByYear.join(", ")}), so one rate cannot stand for it here: the ` +
    "what-if and the sweep below are off. To try another fee structure, send the config with " +
    "fees.by_year changed as a what-if (POST /v1/plans).";
}

async function loadKeyInfo() {
  const token = ++keyToken;
  keyInfo = null;
  showKeyRole();
  showPlanAccess();
  const me = await getJSON("/v1/keys/me").catch((err) => {
    if (token === keyToken && err.status === 401 && err.fromService) showKeyStatus(true, err.detail, err.code);
    return null;
  });
  if (token !== keyToken || !me || !Array.isArray(me.may)) return;
  keyInfo = me;
  showKeyRole();
  showPlanAccess();
}

let whatIfRunning = false;  // one what-if at a time: a second click while solving sends nothing
let whatIfToken = 0;  // bumped by each key change: a what-if sent with the old key is not shown

async function whatIf(event) {
  event.preventDefault();
  if (whatIfRunning || !mayTryFee()) return;
  const out = document.querySelector("#whatif-result");
  const box = document.querySelector("#fee");
  const button = document.querySelector("#fee-form button");
  const { rate, error } = parseFee(box.value);
  fieldError(box, "fee-hint", out, "whatif-error", error);
  if (error) return;  // nothing is sent
  whatIfRunning = true;
  const token = whatIfToken;
  button.disabled = true;
  out.setAttribute("aria-busy", "true");
  out.textContent = `Planning a what-if at a DFG fee rate of ${asPercent(rate)}… (solved on the server; the result shows here when it is done)`;
  let active = null;
  try {
    // The server compares the what-if with the active config's latest plan as it was before
    // solving (the plan's `comparison`), so the page shows its figures rather than its own.
    active = await getJSON("/v1/configs/active");
    const config = active.body;
    if (config?.fees?.by_year) {  // made active since the page read it: no one rate to change
      showActiveFee(active);
      out.textContent = document.querySelector("#fees-by-year-note").textContent;
      return;
    }
    config.fees = { ...(config.fees || {}), dfg_fee_rate: rate };
    const plan = await getJSON("/v1/plans", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ config }),
    });
    if (token !== whatIfToken) return;  // the key changed while it solved
    // A what-if is kept apart: GET /v1/plans/latest (the plan above) stays the active config's.
    const kept = plan.scenario ? "what-if" : "plan of the active config";
    out.innerHTML = `<p id="whatif-headline">${kept} ${planLink(plan.id)}: ${esc(plan.status)},
      ${fmtOrNA(plan.objective_weighted_wait_days)} weighted waiting days,
      fee income GBP ${fmtOrNA(plan.comparison?.fee_income_gbp)}, ${planPeriod(plan)}</p>${whatIfChanges(plan, active)}${whatIfConfigChanges(plan)}${whatIfWarnings(plan)}`;
    // the whole row, so each measure and figure of the comparison reads on one line
    document.querySelector("#whatif").classList.add("wide-card");
  } catch (err) {
    if (token === whatIfToken) showError("#whatif-result", "", olderConfigRefused(err, active) || err.message);
  } finally {
    whatIfRunning = false;
    button.disabled = !mayTryFee();
    out.removeAttribute("aria-busy");
  }
}

// A what-if sends the active config with its fee changed, so a 422 inside `body/config` is the
// active config's own field: one stored before the checks a config sent now meets (a care
// charge with no paying share), or refused as the plan is made (a financial year its by-year
// figures lack), which no fee typed here can mend. Say which field to correct
// and where, rather than the bare refusal; null for any other error.
function olderConfigRefused(err, active) {
  const inConfig = (err.problems || []).filter((p) => String(p.location || "").startsWith("body/config/"));
  if (err.status !== 422 || !active || !inConfig.length) return null;
  const fields = inConfig.map((p) =>
    `${String(p.location).slice("body/config/".length)} (expected ${p.expected}, found ${p.found})`);
  return `The active config (id ${active.id}) does not meet the checks a config sent to the ` +
    "service now has (it was stored before them, or before its plan reached a year it gives no " +
    `figures for), and a what-if is planned from it: correct ${fields.join("; ")} and store it ` +
    "again (POST /v1/configs), then try the what-if again.";
}

const fmtOrNA = (x, digits = 0) => (x == null ? "n/a" : fmt(x, digits));

// A signed figure: "+1,234", "-3.2"; plain "0" when it rounds to nothing.
function signed(x, digits = 0) {
  const text = fmt(Math.abs(x), digits);
  if (!/[1-9]/.test(text)) return text;
  return `${x > 0 ? "+" : "-"}${text}`;
}

// A change `delta` from `base` with its unit, and with `percent` its share of the base too.
function signedChange(delta, base, unit, percent) {
  if (delta == null) return "n/a";
  const text = `${signed(delta)} ${unit}`;
  return percent && base != null && base !== 0 ? `${text} (${signed((100 * delta) / base, 1)}%)` : text;
}

// A plan's revenue rows summed; null (shown "n/a") when it has none: a plan that did not solve.
function revenueTotal(plan, key) {
  const rows = plan.result.revenue || [];
  return rows.length ? sum(rows, key) : null;
}

// A plan's headline figures, as a sweep's table reports them (homeward/planning.py
// plan_figures): in-house staff and agency cost apart and together, so a fee rate that swaps
// staff hours for dearer agency hours does not read as a saving; net of fee and care charge
// income, as the plan's revenue table reckons it, so net cost and unspent budget add up to the
// budget.
function planFigures(plan) {
  const staff = revenueTotal(plan, "staff_cost_gbp"), agency = revenueTotal(plan, "agency_cost_gbp");
  const fee = revenueTotal(plan, "fee_income_gbp");
  const charge = revenueTotal(plan, "charge_income_gbp");  // 0 in a plan stored before charges
  const paid = staff == null || agency == null ? null : staff + agency;
  return {
    wait: plan.objective_weighted_wait_days,
    fee,
    charge,
    staff,
    agency,
    paid,
    net: paid == null || fee == null || charge == null ? null : paid - fee - charge,
    budget: revenueTotal(plan, "budget_gbp"),
    unspent: revenueTotal(plan, "headroom_gbp"),
    // a plan an earlier release stored of a solve that ended without one has 0 here, not null
    dtoc: SOLVED_STATUSES.includes(plan.status) ? plan.result.total_dtoc_days : null,
    // the plan's queue simulation's (null for plans stored before it was reported)
    simDtoc: plan.result.simulated_dtoc_days ?? null,
  };
}

const WHATIF_MEASURES = [
  // [label, figure in the what-if's comparison, unit of its change, change also in percent]
  ["weighted waiting days", "weighted_wait_days", "days", true],
  ["fee income (GBP)", "fee_income_gbp", "GBP", false],
  ["charge income (GBP)", "charge_income_gbp", "GBP", false],
  ["staff cost (GBP)", "staff_cost_gbp", "GBP", false],
  ["agency cost (GBP)", "agency_cost_gbp", "GBP", false],
  ["staff and agency cost (GBP)", "revenue_cost_gbp", "GBP", false],
  // net cost and the budget left unspent add up to it: a what-if may change the budget itself
  ["revenue budget (GBP)", "revenue_budget_gbp", "GBP", false],
  // a higher fee can raise staff cost and still spend less of the budget: fee income pays
  ["net of fee and charge income (GBP)", "net_revenue_cost_gbp", "GBP", false],
  ["budget left unspent (GBP)", "unspent_budget_gbp", "GBP", false],
  ["delayed days in hospital (DTOC)", "dtoc_days", "days", false],
  ["delayed days in hospital, simulated", "simulated_dtoc_days", "days", false],
];

// The what-if against the active config's latest plan, as the server compared them (POST
// /v1/plans' `comparison`: the what-if's figures and each one's `_change`), so a finance
// officer sees what a fee rate trades: fee income against waiting, staff and agency cost and
// hospital delays. The current plan's figure is the what-if's less its change; where the two
// plans cover other periods the server gives no changes and says why, and so does the page.
function whatIfChanges(plan, active) {
  const c = plan.comparison || {};
  if (c.compared_with_plan_id == null) {
    return `<p id="whatif-no-current">No plan of the active config #${esc(active.id)} to compare with
      yet (it is planned when the pipeline next runs: POST /v1/runs, or the schedule), so no
      changes are shown.</p>`;
  }
  const rows = WHATIF_MEASURES.map(([label, key, unit, percent]) => {
    const now = c[key], delta = c[`${key}_change`];
    const then = now == null || delta == null ? null : now - delta;
    return `<tr><th scope="row">${label}</th><td>${fmtOrNA(then)}</td><td>${fmtOrNA(now)}</td>
      <td>${signedChange(delta, then, unit, percent)}</td></tr>`;
  });
  const apart = c.not_comparable
    ? `<p id="whatif-not-comparable" class="warnings" role="note">No changes: ${esc(c.not_comparable)}.</p>`
    : "";
  return `${apart}<div class="wide"><table id="whatif-changes"><caption>Totals ${planPeriod(plan)}, against the current plan
    ${planLink(c.compared_with_plan_id)} (the latest plan of the active config #${esc(active.id)}); change is the what-if
    minus the current plan</caption>
    <thead><tr><th scope="col">measure</th><th scope="col">current plan</th><th scope="col">what-if</th>
    <th scope="col">change</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>${whatIfServices(plan)}`;
}

// Each service's hours and net cost (staff and agency cost less its care charges) in the current
// plan and the what-if, and the change, as the server compared them (`comparison.by_service`,
// in the config's order): which service a changed rate or fee moved. Changes are n/a where the
// totals' are.
function whatIfServices(plan) {
  const rows = plan.comparison?.by_service || [];
  if (!rows.length) return "";
  const change = (delta) => (delta == null ? "n/a" : signed(delta));
  const body = rows.map((r) => `<tr><th scope="row">${esc(serviceName(r.service))}</th>
    <td>${fmtOrNA(r.compared_hours)}</td><td>${fmtOrNA(r.hours)}</td><td>${change(r.hours_change)}</td>
    <td>${fmtOrNA(r.compared_net_cost_gbp)}</td><td>${fmtOrNA(r.net_cost_gbp)}</td><td>${change(r.net_cost_gbp_change)}</td></tr>`);
  const sub = '<th scope="col">current plan</th><th scope="col">what-if</th><th scope="col">change</th>';
  return `<div class="wide"><table id="whatif-services"><caption>By service, ${planPeriod(plan)}: hours (staff,
    commissioned and agency) and net cost (staff and agency cost less the service's care charges; DFG fee
    income is no service's)</caption>
    <colgroup><col></colgroup><colgroup span="3"></colgroup><colgroup span="3"></colgroup>
    <thead><tr><th scope="col" rowspan="2">service</th><th scope="colgroup" colspan="3">hours</th>
    <th scope="colgroup" colspan="3">net cost (GBP)</th></tr><tr>${sub}${sub}</tr></thead>
    <tbody>${body.join("")}</tbody></table></div>`;
}

// What the what-if's config changed from the active one, as the server lists it (each field
// to the leaf with both values), so its changes can be read as the effect of those fields.
function whatIfConfigChanges(plan) {
  const changes = plan.comparison?.config_changes;
  if (!Array.isArray(changes)) return "";
  if (!changes.length) {
    return `<p id="whatif-config-changes">The same config as the active one: no field changed.</p>`;
  }
  const items = changes.map((line) => `<li>${esc(line)}</li>`).join("");
  return `<div id="whatif-config-changes"><h4>Changed from the active config</h4><ul>${items}</ul></div>`;
}

// The what-if's own warnings, with its own figures (the simulated delayed days, when its
// capital runs out): its table alone would hide them. All of them: a warning the current plan
// also has carries other figures here.
function whatIfWarnings(plan) {
  const warnings = plan.result.warnings || [];
  if (!warnings.length) return "";
  const items = warnings.map((w) => `<li>${esc(w)}</li>`).join("");
  return `<div id="whatif-warnings" class="warnings" role="note"><h4>${warnings.length === 1
    ? "A warning of this what-if" : `${warnings.length} warnings of this what-if`}, with its own
    figures</h4><ul>${items}</ul></div>`;
}

// A fee sweep (POST /v1/plans/sweeps): several rates planned as what-ifs in one job, polled at
// its Location until it finishes, then one row per rate with its change from the current plan.
const SWEEP_RATES = { min: 2, max: 12 };
const SWEEP_POLL_MS = 1000;
const SWEEP_MEASURES = [
  // [label, figure in the run's sweep table, unit of its change, change also in percent]
  ["weighted waiting days", "weighted_wait_days", "days", true],
  ["fee income (GBP)", "fee_income_gbp", "GBP", false],
  ["charge income (GBP)", "charge_income_gbp", "GBP", false],
  ["staff hours", "staff_hours", "hours", false],
  ["staff cost (GBP)", "staff_cost_gbp", "GBP", false],
  ["agency cost (GBP)", "agency_cost_gbp", "GBP", false],
  ["staff and agency cost (GBP)", "revenue_cost_gbp", "GBP", false],
  // not the revenue budget: every rate of a sweep plans with the same one, so a column of it
  // would say nothing and push the table past a 1366 px screen (sweep.csv has it)
  ["net of fee and charge income (GBP)", "net_revenue_cost_gbp", "GBP", false],
  ["budget left unspent (GBP)", "unspent_budget_gbp", "GBP", false],
  ["DFG works completed", "works_completed", "cases", false],
  ["delayed days in hospital (DTOC)", "dtoc_days", "days", false],
  // the plan's queue simulation's: queues near full use wait longer than the LP's fluid model
  ["delayed days in hospital, simulated", "simulated_dtoc_days", "days", false],
];
let sweepToken = 0;  // bumped by each sweep and each key change: an older poll then stops

// The rates typed, in percent, as fractions for the API; or an error naming what was wrong.
function parseRates(text) {
  const parts = text.split(/[,;\s]+/).filter(Boolean);
  const example = "separated by commas, e.g. 5, 10, 15, 20";
  if (!parts.length) return { error: `Enter ${SWEEP_RATES.min} to ${SWEEP_RATES.max} fee rates in percent, ${example}.` };
  const rates = [], typed = [];
  for (const part of parts) {
    const number = part.replace(/%$/, "");
    const percent = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(number) ? Number(number) : NaN;
    if (!Number.isFinite(percent)) {
      return { error: `"${part}" is not a number: enter fee rates in percent, ${example}.` };
    }
    if (percent < 0 || percent > 100) {
      return { error: `${part.replace(/%$/, "")}% is not a fee rate: each rate must be from 0 to 100 (percent).` };
    }
    rates.push(percent / 100);
    typed.push(number);
  }
  if (rates.length < SWEEP_RATES.min || rates.length > SWEEP_RATES.max) {
    const given = rates.length === 1 ? "Only 1 rate given" : `${rates.length} rates given`;
    return { error: `${given}: a sweep compares ${SWEEP_RATES.min} to ${SWEEP_RATES.max} rates, ${example}.` };
  }
  // the same rate twice ("10, 10%") would plan it twice and show two identical rows
  const again = rates.findIndex((r, i) => rates.indexOf(r) !== i);
  if (again >= 0) return { error: `${typed[again]}% is given twice: enter each fee rate once, ${example}.` };
  return { rates };
}

const asPercent = (rate) => `${Number((100 * rate).toFixed(4)).toLocaleString("en-GB", { maximumFractionDigits: 2 })}%`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function sweepDone(token) {
  if (token !== sweepToken) return;
  document.querySelector("#sweep-form button").disabled = !mayTryFee();
}

async function sweep(event) {
  event.preventDefault();
  // a sweep is running, or the key may not plan
  if (document.querySelector("#sweep-form button").disabled || !mayTryFee()) return;
  const token = ++sweepToken;
  const status = document.querySelector("#sweep-status");
  const out = document.querySelector("#sweep-result");
  const input = document.querySelector("#sweep-rates");
  status.textContent = "";
  out.replaceChildren();
  // (the card stays wide while it holds a what-if's table; a new key narrows it again)
  document.querySelector("#whatif").classList.toggle("wide-card",
    Boolean(document.querySelector("#whatif-changes")));
  const { rates, error } = parseRates(input.value);
  fieldError(input, "sweep-hint", out, "sweep-error", error);
  if (error) return;  // nothing is sent
  document.querySelector("#sweep-form button").disabled = true;
  status.textContent = "sending…";
  try {
    const { response, body } = await fetchJSON("/v1/plans/sweeps", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ dfg_fee_rates: rates }),
    });
    const location = response.headers.get("Location") || `/v1/runs/${body.id}`;
    let run = body;
    while (run.status === "queued" || run.status === "running") {
      if (token !== sweepToken) return;
      status.textContent = `Sweep run #${run.id} ${run.status}: ${run.message || ""}`;
      await sleep(SWEEP_POLL_MS);
      if (token !== sweepToken) return;
      run = await getJSON(location);
    }
    if (token !== sweepToken) return;
    // a failed run's message is shown once, as the error below
    status.textContent = run.status === "succeeded"
      ? `Sweep run #${run.id} finished: ${run.message || ""}` : `Sweep run #${run.id} ${run.status}`;
    renderSweep(run);
    await showSweepPeriod(run, token);
  } catch (err) {
    if (token !== sweepToken) return;
    status.textContent = "";
    showError("#sweep-result", "", err.message);
    out.querySelector(".error").id = "sweep-error";
  } finally {
    sweepDone(token);
  }
}

// The plan the sweep's changes are from, the active config's latest plan when it started:
// each row names it (compared_with_plan_id), a failed sweep's rows too; a sweep stored before
// rows named it, by its message ("..., compared with plan 12").
function comparedWith(run) {
  const rows = run.sweep || [];
  const stated = rows.find((r) => r.compared_with_plan_id != null);
  if (stated) return String(stated.compared_with_plan_id);
  const named = /compared with plan (\d+)/.exec(run.message || "");
  return named ? named[1] : null;
}

// The weeks a sweep's totals cover, read from one of its what-if plans (all are the same
// config's, so the same weeks); left unsaid if that plan cannot be read.
async function showSweepPeriod(run, token) {
  const first = (run.sweep || []).find((r) => r.plan_id != null);
  if (!first) return;
  const plan = await getJSON(`/v1/plans/${encodeURIComponent(first.plan_id)}`).catch(() => null);
  const span = document.querySelector("#sweep-period");
  if (!plan || !span || token !== sweepToken) return;
  span.textContent = `. Totals ${planPeriod(plan)}`;
}

// The measures a sweep's table shows: charge income only where a row has some (or a change in
// it), so a council that makes no care charges keeps a table of zeros out of a 1366 px laptop.
function sweepMeasures(rows) {
  const charged = rows.some((r) => r.charge_income_gbp || r.charge_income_gbp_change);
  return SWEEP_MEASURES.filter(([, key]) => key !== "charge_income_gbp" || charged);
}

// A sweep's change cell, reading as signedChange writes it: its unit (which the column's
// heading names) is there for a screen reader only, and its share of the base may wrap under
// the figure, so the table's 24 columns fit a 1366 px laptop.
function changeCell(delta, base, unit, percent) {
  if (delta == null) return "<td>n/a</td>";
  const share = percent && base != null && base !== 0
    ? ` <span class="share">(${signed((100 * delta) / base, 1)}%)</span>` : "";
  return `<td class="change">${signed(delta)}<span class="visually-hidden"> ${esc(unit)}</span>${share}</td>`;
}

function renderSweep(run) {
  const out = document.querySelector("#sweep-result");
  const rows = run.sweep || [];
  if (run.status !== "succeeded") {
    showError("#sweep-result", "", run.message || `The sweep ${run.status}.`);
    out.querySelector(".error").id = "sweep-error";
    if (!rows.length) return;
  }
  const base = comparedWith(run);
  const caption = base
    ? `Against the current plan ${planLink(base)} (the active config's latest plan when the sweep ` +
      "started); each change is the rate's what-if minus the current plan"
    : "No plan of the active config to compare with when the sweep started: changes are n/a";
  // the server's reason a row has no changes though there was a plan: other periods than it
  const apart = rows.find((r) => r.not_comparable)?.not_comparable;
  const why = base && apart ? `; no changes: ${esc(apart)}` : "";
  const planned = rows.length === 1 ? "the 1 rate" : `the ${rows.length} rates`;
  // a sweep whose every rate the solver could not plan failed with all its rows (the message
  // above says so), not part way
  const unsolved = rows.every((r) => !SOLVED_STATUSES.includes(r.status));
  const done = run.status === "succeeded" ? ""
    : unsolved ? ` (${planned} planned, none solved)`
    : ` (${planned} planned before the sweep ${esc(run.status)})`;
  const measures = sweepMeasures(rows);
  const head = measures.map(([label]) => `<th scope="colgroup" colspan="2">${label}</th>`).join("");
  const sub = measures.map(() => '<th scope="col">value</th><th scope="col">change</th>').join("");
  const body = rows.map((r) => {
    const cells = measures.map(([, key, unit, percent]) => {
      const value = r[key], delta = r[`${key}_change`];
      const before = value == null || delta == null ? null : value - delta;
      return `<td>${fmtOrNA(value)}</td>${changeCell(delta, before, unit, percent)}`;
    }).join("");
    // the plan's number downloads its hours, as the summary's "hours" button does the plan's
    const hours = `/v1/plans/${encodeURIComponent(r.plan_id)}/hours.csv`;
    // the rate opens its what-if plan's cards on this page
    const rate = r.plan_id == null ? asPercent(r.dfg_fee_rate)
      : planLink(r.plan_id, asPercent(r.dfg_fee_rate), `open what-if plan #${r.plan_id} on this page`);
    return `<tr><th scope="row">${rate}</th>${cells}` +
      `<td class="plan-cell"><button type="button" class="download link" data-path="${hours}"
      title="download what-if plan #${esc(r.plan_id)}'s hours as CSV">#${esc(r.plan_id)}</button> ${esc(r.status)}</td></tr>`;
  });
  document.querySelector("#whatif").classList.add("wide-card");  // room for the table's columns
  out.insertAdjacentHTML("beforeend", `<div class="wide"><table id="sweep-table">
    <caption id="sweep-caption">${caption}${why}${done}<span id="sweep-period"></span></caption>
    <colgroup><col></colgroup>${measures.map(() => '<colgroup span="2"></colgroup>').join("")}<colgroup><col></colgroup>
    <thead><tr><th scope="col" rowspan="2">DFG fee rate</th>${head}<th scope="col" rowspan="2"><span class="nowrap">what-if</span> plan</th></tr>
    <tr>${sub}</tr></thead><tbody>${body.join("")}</tbody></table></div>
    <p id="sweep-downloads"><button type="button" class="download" id="sweep-csv"
    data-path="/v1/runs/${encodeURIComponent(run.id)}/sweep.csv">Download the sweep table as CSV</button>
    <span class="muted">(a rate opens its what-if plan on this page; a what-if plan's number downloads its hours)</span>
    <span id="sweep-download-status" class="muted" role="status" aria-live="polite"></span></p>`);
  wireDownloads(out, "#sweep-download-status");
}

function useKey(event) {
  event.preventDefault();
  const input = document.querySelector("#api-key");
  if (input.value.trim()) sessionStorage.setItem(KEY_STORE, input.value.trim());
  else sessionStorage.removeItem(KEY_STORE);
  input.value = "";
  load();
}

// ---- Which plan the page shows ----
// The latest plan (GET /v1/plans/latest), or with `?plan=12` in the address any stored plan
// (GET /v1/plans/12): a what-if, or one made before. The plan picker and every link naming a
// plan (a sweep's rates, a what-if's and the plan compared with) open it in this page, keeping
// the what-if card's results; the browser's Back shows the plan before.
const MAX_PLAN_ID = 2147483647;  // api/deps.py MAX_ID: no plan has a larger id
const PLAN_EXPECTED = `expected a plan id, a whole number from 1 to ${MAX_PLAN_ID} (as in ?plan=12)`;

// {id: "12"} for ?plan=12, {id: null} for the latest, {error} for an id that is none.
function askedPlan() {
  const given = new URLSearchParams(location.search).getAll("plan");
  if (!given.length) return { id: null };
  if (given.length > 1) {
    return { error: `?plan= in the address: ${PLAN_EXPECTED}, once; found it ${given.length} times ` +
      `(${given.map((g) => `"${g}"`).join(", ")}).` };
  }
  const text = given[0].trim();
  const id = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(id >= 1 && id <= MAX_PLAN_ID)) {
    return { error: `?plan= in the address: ${PLAN_EXPECTED}; found ${given[0] ? `"${given[0]}"` : "nothing"}.` };
  }
  return { id: String(id) };
}

const planHref = (id) => (id == null ? location.pathname : `${location.pathname}?plan=${encodeURIComponent(id)}`);

// A plan's number ("#12") as a link that opens it in this page (`text` instead, if given).
function planLink(id, text = `#${esc(id)}`, title = `open plan #${id} on this page`) {
  return `<a class="plan-link" href="${esc(planHref(id))}" data-plan="${esc(id)}" title="${esc(title)}">${text}</a>`;
}

const latestLink = () =>
  `<a class="plan-link" id="plan-latest-link" href="${esc(planHref(null))}">Show the latest plan</a>`;

// "2026-01-05 14:03 UTC", as the API's times are; the text as given if it is not a time.
function when(iso) {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? String(iso) : `${t.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

// What the summary card is called while its plan loads or could not be read.
function planTitle(asked) {
  return asked.error ? "Plan asked for" : asked.id == null ? "Latest plan" : `Plan #${asked.id}`;
}

// Every card that shows a plan's figures back to its heading, with `note` ("loading…"), or
// when the plan could not be read, a line saying why the card is empty.
function clearFigures(note) {
  const title = planTitle(askedPlan());
  const cards = [["#summary", title], ["#hours", HOURS_HEADING], ["#waits", WAITS_HEADING],
    ["#capital", CAPITAL_HEADING], ["#demand", "Demand planned for, whole area"],
    ["#backlog", "Cases waiting, whole area"], ["#shadow", "What an extra pound or hour is worth"]];
  const noPlan = `Nothing to show: no plan could be read (see ${title} above).`;
  for (const [selector, heading] of cards) {
    const said = note || (selector === "#summary" ? "" : noPlan);
    document.querySelector(selector).innerHTML = `<h2>${esc(heading)}</h2>` +
      (said ? `<p class="muted ${note ? "loading" : "no-plan"}">${esc(said)}</p>` : "");
  }
  document.querySelector("#summary").setAttribute("aria-busy", note ? "true" : "false");
  document.querySelector("#chart").textContent = note;
}

// No plan yet (a new database, or a council that has not run the pipeline): not a failure, so
// not shown as one; the page says how a plan is made, and the forecasts still show if there are
// any.
function showNoPlan() {
  clearFigures("");
  for (const card of ["#hours", "#waits", "#capital", "#demand", "#backlog", "#shadow"]) {
    document.querySelector(`${card} p`).textContent = "Nothing to show until the first plan is made.";
  }
  const summary = document.querySelector("#summary");
  summary.innerHTML = '<h2>Latest plan</h2><p id="plan-none"></p>';
  summary.querySelector("#plan-none").textContent = "No plan has been made yet. A plan is made each " +
    "time the pipeline runs: on its schedule, or when an administrator starts it (POST /v1/runs). " +
    "It needs referral history and an active planning config.";
}

// The plan could not be read, or the address asks for no plan: said in the summary, every
// card empty, and for a plan asked for by id, the latest offered instead.
function showPlanError(asked, message) {
  clearFigures("");
  showError("#summary", esc(planTitle(asked)), message);
  document.querySelector("#summary .error").id = "plan-error";
  if (asked.id != null || asked.error) {
    document.querySelector("#summary").insertAdjacentHTML("beforeend", `<p>${latestLink()}
      <span class="muted">or choose a plan above.</span></p>`);
  }
}

// Whether a key is held for this tab: after "Use key" the box is emptied, so without this the
// page would not say whether it is sending one.
// A key the server refuses (401: unknown, revoked or expired) is said to be so, not to be in
// use, with the server's reason (an expired key's says when, and how an admin renews it). Which
// refusal it is comes from the problem's `code`, never from the reason's words (a revoked key
// named 'expired-reports' was said to have expired).
const KEY_REFUSED = { key_expired: "the key has expired", key_revoked: "the key was revoked" };

function showKeyStatus(refused = false, reason = null, code = null) {
  const held = Boolean(sessionStorage.getItem(KEY_STORE));
  const status = document.querySelector("#key-status");
  status.textContent = !held ? "no key in use"
    : refused ? (Object.hasOwn(KEY_REFUSED, code) ? KEY_REFUSED[code] : "the key was not accepted")
    : "a key is in use for this tab";
  status.title = !held ? "" : refused ? (reason || "The server does not know this key, or it was revoked") +
    ": paste another" : "Empty the box and press Use key to stop sending it";
}

// The plan asked for in every card. Its config, read once, names the plan's districts and says
// how winter was raised; without it the page still shows the figures (districts by id, and the
// usual cause of raised weeks).
let loadToken = 0;  // bumped by each load: a plan read with the old key, or asked for before, is not shown
let activeConfig = Promise.resolve(null);  // GET /v1/configs/active, read once per key
let loadedSearch = null;  // the address's query when the plan shown was asked for

async function showPlan(active, token, asked) {
  const plan = await getJSON(asked.id == null ? "/v1/plans/latest" : `/v1/plans/${encodeURIComponent(asked.id)}`);
  if (token !== loadToken) return;
  renderSummary(plan, asked); renderShadow(plan);
  namePickedPlan(plan);
  const config = await getJSON(`/v1/configs/${encodeURIComponent(plan.config_id)}`).catch(() => null);
  if (token !== loadToken) return;
  nameDistricts(config);
  renderHours(plan); renderWaits(plan); renderCapital(plan); renderBacklog(plan);
  renderDemand(plan, config?.body?.winter ?? null);
  nameConfig(config);
  // a plan asked for by id says what it is in its heading (a what-if, what it changed); the
  // latest, whether its config is still the active one, and whether a pipeline run has failed
  // since it was made
  if (asked.id != null) {
    if (plan.scenario) showComparison(plan, active, token);
    return;
  }
  const failed = failedRunAfter(plan);
  failed.then((run) => { if (token === loadToken) noteFailedRun(plan, run); });
  Promise.all([active, failed]).then(([c, run]) => {
    if (token === loadToken) noteActiveConfig(plan, c, run);
  });
}

// A what-if opened by id (?plan=, the picker, a link) set against the plan a what-if made now
// is compared with, the active config's latest plan (GET /v1/plans/{id}/compare/{other_id}):
// its config changes, then what they did to the totals, drawn as the what-if card draws one it
// made (its tables' ids renamed, as that card may hold a what-if too), so a what-if opened
// later is not read without what it changed. Nothing if the active config cannot be read.
async function showComparison(plan, active, token) {
  const [config, latest] = await Promise.all([active, getJSON("/v1/plans/latest").catch(() => null)]);
  if (token !== loadToken || !config) return;
  const current = latest && await isActiveConfig(latest.config_id, config) ? latest : null;
  let body;
  try {
    const comparison = current
      ? await getJSON(`/v1/plans/${encodeURIComponent(plan.id)}/compare/${encodeURIComponent(current.id)}`)
      : {};
    const shown = { ...plan, comparison };
    body = whatIfConfigChanges(shown) + whatIfChanges(shown, config);  // what it changed, then what that did
  } catch (err) {
    body = `<p class="muted">It could not be set against the current plan #${esc(current.id)}: ${esc(err.message)}</p>`;
  }
  if (token !== loadToken) return;
  const box = document.createElement("div");
  box.id = "plan-compared";
  box.innerHTML = `<h3>Against the current plan</h3>${body}`;
  for (const el of box.querySelectorAll("[id^='whatif-']")) el.id = el.id.replace(/^whatif-/, "plan-compared-");
  document.querySelector("#summary .kpi")?.after(box);
  document.querySelector("#summary").classList.add("wide-card");  // room for its tables
}

async function loadPlan() {
  const asked = askedPlan();
  const token = ++loadToken;
  loadedSearch = location.search;
  document.title = asked.id == null ? "Homeward: plan and forecasts" : `Homeward: plan #${asked.id}`;
  showPicked(asked);
  document.querySelector("#summary").classList.remove("wide-card");  // until a comparison needs it
  clearFigures("loading…");  // the figures read with another key (or none) are not left as current
  if (asked.error) {
    showPlanError(asked, asked.error);
    return;
  }
  try {
    await showPlan(activeConfig, token, asked);
  } catch (err) {
    if (token !== loadToken) return;
    if (err.status === 404 && err.fromService && asked.id == null) {
      showNoPlan();
    } else if (err.status === 404 && err.fromService) {
      showPlanError(asked, `?plan=${asked.id} in the address: expected the id of a stored plan ` +
        `(the list above offers them); found ${asked.id}, which no stored plan has (the server ` +
        `answered: ${err.detail}). It may be mistyped, or the plan removed.`);
    } else {
      showPlanError(asked, err.message);
    }
  }
}

// Opens plan `id` (null: the latest) in this page, as its own address (?plan=12), so Back
// returns to the plan before and the address can be shared.
function openPlan(id) {
  const href = planHref(id);
  if (`${location.pathname}${location.search}` !== href) history.pushState(null, "", href);
  return loadPlan();
}

// A link naming a plan opens it here, keeping the what-if card as it is, and takes the
// keyboard's focus (and the view) to the plan's summary; a click with a modifier key (a new
// tab or window) is left to the browser.
function followPlanLink(event) {
  const link = event.target.closest?.("a.plan-link");
  if (!link || event.defaultPrevented || event.button !== 0 ||
      event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  openPlan(link.dataset.plan ?? null);
  document.querySelector("#summary").focus();
}

// The plan picker: the latest plan, then the newest plans (what-ifs too) from GET /v1/plans,
// a page at a time ("Older plans" follows its Link header); read again with each key.
const PLAN_PAGE = "/v1/plans?limit=20";
let planListToken = 0;
let olderPlans = null;  // the next page's address, from the Link header; null: none
let plansListed = 0;  // how many the pages read so far gave

function planLabel(p) {
  return `#${p.id}, ${p.scenario ? "what-if" : "plan"} of config #${p.config_id}, ${when(p.created_at)}, ${p.status}`;
}

function planOption(id) {
  return [...document.querySelector("#plan-pick").options].find((o) => o.value === String(id));
}

// The picker names the plan shown: one asked for by id that the list has not reached is added.
function showPicked(asked) {
  const select = document.querySelector("#plan-pick");
  if (asked.id != null && !planOption(asked.id)) {
    select.options.add(new Option(`#${asked.id}`, asked.id), 1);
  }
  select.value = asked.id ?? "latest";
}

function namePickedPlan(plan) {
  const option = planOption(plan.id);
  if (option) option.text = planLabel(plan);
}

async function loadPlanList(url = PLAN_PAGE) {
  const first = url === PLAN_PAGE;
  const token = first ? ++planListToken : planListToken;
  const select = document.querySelector("#plan-pick");
  const hint = document.querySelector("#plan-pick-hint");
  const more = document.querySelector("#plan-more");
  if (first) {
    select.replaceChildren(new Option("the latest plan", "latest"));
    showPicked(askedPlan());
    hint.textContent = "";
    more.hidden = true;
    plansListed = 0;
  }
  more.disabled = true;
  try {
    const { response, body } = await fetchJSON(url);
    if (token !== planListToken) return;
    const picked = select.value;
    for (const p of body) {  // in the list's order: a plan asked for by id moves to its place
      const option = planOption(p.id) ?? new Option("", String(p.id));
      option.text = planLabel(p);
      select.options.add(option);
    }
    select.value = picked;
    plansListed += body.length;
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("Link") || "");
    olderPlans = next ? next[1] : null;
    more.hidden = !olderPlans;
    const total = response.headers.get("X-Total-Count");
    hint.textContent = olderPlans ? `the ${plansListed} newest of ${total ?? "more"} plans, what-ifs included`
      : plansListed ? `${plansListed === 1 ? "the one plan" : `all ${plansListed} plans`}, what-ifs included`
        : "no plans yet";
  } catch (err) {
    if (token !== planListToken) return;
    hint.textContent = `no plans to choose from: ${err.status === 401 ? "the server needs a key it accepts" : err.message}`;
  } finally {
    if (token === planListToken) more.disabled = false;
  }
}

function pickPlan(event) {
  event.preventDefault();
  const chosen = document.querySelector("#plan-pick").value;
  openPlan(chosen === "latest" ? null : chosen);
}

async function load() {
  showKeyStatus();
  whatIfToken += 1;  // a what-if still solving with the old key is not shown when it returns
  document.querySelector("#whatif-result").textContent = "";
  sweepToken += 1;  // a sweep polled with the old key stops; its figures go with it
  document.querySelector("#sweep-status").textContent = "";
  document.querySelector("#sweep-result").textContent = "";
  document.querySelector("#whatif").classList.remove("wide-card");
  document.querySelector("#sweep-form button").disabled = false;
  feesByYear = null;  // until the new key reads the active config (showActiveFee)
  loadKeyInfo();  // disables the what-if and the sweep again if this key may not plan
  activeConfig = getJSON("/v1/configs/active").catch(() => null);
  activeConfig.then(showActiveFee);
  loadPlanList();  // the plans this key may choose from
  // the forecast card is busy until its series list and first chart are drawn (or it says
  // why not): a screen reader waits for it, and so can a client of the page
  const chart = document.querySelector("#chart");
  chart.setAttribute("aria-busy", "true");
  await loadPlan();
  loadSeries().catch((err) => {  // no series can be chosen, and the old key's are not left
    const select = document.querySelector("#series");
    select.replaceChildren(new Option("no series to show", ""));
    select.disabled = true;
    showChartError(err);
  }).finally(() => chart.setAttribute("aria-busy", "false"));
}

// A table that scrolls within its box (.scroll: a long list of weeks; .wide: more columns than
// a narrow screen holds) is a named region, and takes the keyboard's focus while it scrolls, so
// keyboard users can scroll it with the arrow keys (WCAG 2.1.1) and a screen reader says whose
// it is: its table's caption, else its card's heading. Checked as the cards are drawn and as
// boxes change width (a table that fits a laptop scrolls at 400% zoom).
function scrolls(box) {
  return box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
}

const scrollerResized = typeof ResizeObserver === "undefined" ? null
  : new ResizeObserver((entries) => {
    for (const { target } of entries) {
      if (target.isConnected) focusIfScrolls(target);
      else scrollerResized.unobserve(target);  // its card was drawn again
    }
  });

function focusIfScrolls(box) {
  if (scrolls(box)) box.tabIndex = 0;
  else box.removeAttribute("tabindex");
}

let scrollerCount = 0;
function nameScroller(box) {
  const caption = box.querySelector("caption");
  const heading = box.closest("section")?.querySelector("h2");
  const by = caption ?? heading;
  if (!by) return;
  by.id ||= `scroll-label-${++scrollerCount}`;
  box.setAttribute("aria-labelledby", by.id);
}

function keyboardScrollers() {
  for (const box of document.querySelectorAll("main .wide, main .scroll")) {
    box.setAttribute("role", "region");
    nameScroller(box);
    focusIfScrolls(box);
    scrollerResized?.observe(box);
  }
}
new MutationObserver(keyboardScrollers).observe(document.querySelector("main"), { childList: true, subtree: true });

document.querySelector("#fee-form").addEventListener("submit", whatIf);
document.querySelector("#sweep-form").addEventListener("submit", sweep);
document.querySelector("#key-form").addEventListener("submit", useKey);
document.querySelector("#plan-form").addEventListener("submit", pickPlan);
document.querySelector("#plan-more").addEventListener("click", () => { if (olderPlans) loadPlanList(olderPlans); });
document.addEventListener("click", followPlanLink);
// Back or Forward to another plan's address shows it (not to a card's #anchor on the same plan)
window.addEventListener("popstate", () => { if (location.search !== loadedSearch) loadPlan(); });
load();
