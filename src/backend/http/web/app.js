// The Kasi web view: the fleet as a table and as a list sorted by urgency, and one site's charts,
// kept live by the backend's event stream. Plain ES module, no build step; charts by uPlot.
//
// The stream is read with fetch(), not EventSource: EventSource cannot send an Authorization
// header, and a token in the URL would end up in proxy and server logs.
import { drawCharts, toSeries } from "./charts.js";
import { readEvents } from "./event_stream.js";
import { duration, esc, hours, renderTable } from "./fleet_table.js";

const TOKEN_KEY = "kasi.apiToken";
const URGENT_SHOWN = 50;

const state = {
  sites: new Map(),
  selected: new URLSearchParams(location.search).get("site"),
  alarms: new Map(),
  alarmsAvailable: true,
  series: null,
  charts: [],
  range: "24h",
  /** The selected site's command thresholds, drawn on its SoC chart. */
  levels: {},
  loading: false,
  dirty: false,
  clockSkewMs: 0,
};

const $ = (id) => document.getElementById(id);

function headers() {
  const token = localStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...headers(), ...init.headers } });
  if (response.status === 401) {
    askToken((await response.json()).error);
    throw new Error("unauthorized");
  }
  return response;
}

function askToken(why) {
  $("token-form").hidden = false;
  $("token-error").textContent = why ?? "";
  $("link").className = "link down";
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(TOKEN_KEY, $("token").value.trim());
  $("token-form").hidden = true;
  connect();
});

// ---- the stream ------------------------------------------------------------------------------

let streamAbort = null;

async function connect() {
  streamAbort?.abort();
  const abort = new AbortController();
  streamAbort = abort;
  const retryMs = 2000;
  while (!abort.signal.aborted) {
    try {
      const response = await api("/api/v1/stream", { signal: abort.signal });
      if (!response.ok) throw new Error(`stream: HTTP ${response.status}`);
      $("link").className = "link up";
      await readEvents(response.body, (event, data) => onEvent(event, data));
    } catch (error) {
      if (error.message === "unauthorized") return;
    }
    $("link").className = "link down";
    if (abort.signal.aborted) return;
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

function onEvent(event, data) {
  if (event === "snapshot") {
    state.sites = new Map(data.map((s) => [s.siteId, s]));
    loadAlarms();
  } else if (event === "sites") {
    for (const s of data) state.sites.set(s.siteId, s);
    const mine = data.find((s) => s.siteId === state.selected);
    if (mine) {
      setLevels(mine);
      extendCharts(mine);
    }
  } else if (event === "alarm") {
    if (data.state === "cleared") state.alarms.delete(data.id);
    else state.alarms.set(data.id, data);
  }
  if (!state.series && !state.loading && state.sites.size > 0) {
    // The site in the address (?site=), else the most urgent one.
    select(state.sites.has(state.selected) ? state.selected : urgencyOrder()[0].siteId, true);
  }
  schedule();
}

function schedule() {
  if (state.dirty) return;
  state.dirty = true;
  requestAnimationFrame(() => {
    state.dirty = false;
    render();
  });
}

// ---- urgency ---------------------------------------------------------------------------------

/**
 * Offline first, then open alarms (most first), then the fewest battery hours left (the runway
 * before the generator must run or the load goes dark), then the fewest diesel hours.
 */
function urgencyOrder() {
  return [...state.sites.values()].sort((a, b) =>
    Number(b.offline) - Number(a.offline) ||
    b.openAlarms - a.openAlarms ||
    hoursLeft(a) - hoursLeft(b) ||
    (a.prediction?.dieselH ?? Infinity) - (b.prediction?.dieselH ?? Infinity) ||
    a.siteId.localeCompare(b.siteId)
  );
}

/** Battery hours left to the reserve; a site without a prediction sorts last among the rest. */
function hoursLeft(site) {
  return site.prediction?.batteryH ?? Infinity;
}

function why(site) {
  if (site.offline) {
    return site.status === "offline"
      ? "offline (last will)"
      : site.silentS === null
      ? "no telemetry yet"
      : `silent for ${duration(site.silentS)}`;
  }
  if (site.openAlarms > 0) {
    const first = [...state.alarms.values()].find((a) => a.siteId === site.siteId);
    return first ? first.message : `${site.openAlarms} open alarm${site.openAlarms > 1 ? "s" : ""}`;
  }
  const p = site.prediction;
  if (!p) return "no prediction yet";
  return `battery ${hours(p.batteryH)} h, diesel ${hours(p.dieselH)} h`;
}

// ---- rendering -------------------------------------------------------------------------------

function render() {
  const startedMs = performance.now();
  const sites = [...state.sites.values()];
  const offline = sites.filter((s) => s.offline).length;
  const alarmed = sites.filter((s) => s.openAlarms > 0).length;
  $("summary").textContent = `${sites.length} sites · ${offline} offline · ${alarmed} with alarms`;
  const newest = Math.max(0, ...sites.map((s) => (s.lastSeen ? Date.parse(s.lastSeen) : 0)));
  if (newest > 0) {
    $("clock").textContent = `${new Date(newest).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  }

  const ordered = urgencyOrder();
  $("urgent-list").innerHTML = ordered.slice(0, URGENT_SHOWN).map((s) => {
    const cls = s.offline ? "offline" : s.openAlarms > 0 ? "alarm" : hoursLeft(s) < 12 ? "low" : "";
    const badge = s.offline
      ? "offline"
      : s.openAlarms > 0
      ? `${s.openAlarms} alarm${s.openAlarms > 1 ? "s" : ""}`
      : s.prediction
      ? `${hours(hoursLeft(s))} h battery`
      : "";
    return `<li class="${cls}" data-site="${esc(s.siteId)}"><span class="id">${
      esc(s.siteId)
    }</span>` +
      `<span class="badge">${esc(badge)}</span><span class="why">${esc(why(s))}</span></li>`;
  }).join("") + (ordered.length > URGENT_SHOWN
    ? `<li class="more muted">… and ${ordered.length - URGENT_SHOWN} more in the table</li>`
    : "");

  renderTable($("fleet-body"), sites, state.selected);

  renderDetail();
  renderAlarms();
  // For the 1000-site check (and a curious operator's devtools): how long one render took.
  document.body.dataset.renderMs = (performance.now() - startedMs).toFixed(1);
}

function renderDetail() {
  const site = state.sites.get(state.selected);
  $("detail").hidden = !site;
  if (!site) return;
  $("detail-title").textContent = `Site ${site.siteId}`;
  const c = site.lastCommand;
  $("detail-facts").textContent = [
    `${site.protocol === "legacy" ? "first generation" : "v1"}`,
    site.latest ? `on ${site.latest.source}` : "no telemetry",
    c
      ? `command #${c.seq} ${c.mode}: generator ${c.genStartSocPct}→${c.genStopSocPct} %, ${c.reason}`
      : "no command yet",
  ].join(" · ");
}

function renderAlarms() {
  const open = [...state.alarms.values()].filter((a) => a.state !== "cleared");
  $("alarms").hidden = !state.alarmsAvailable;
  $("alarm-list").innerHTML = open.length === 0
    ? `<li class="muted">No open alarms.</li>`
    : open.map((a) =>
      `<li><span class="${a.severity}">${esc(a.severity)}</span><span>${esc(a.siteId)}</span>` +
      `<span class="msg">${esc(a.message)}</span><span class="muted">${
        esc(a.raisedAt.slice(0, 16))
      }</span>` +
      (a.state === "acknowledged"
        ? `<span class="muted">ack by ${esc(a.acknowledgedBy ?? "")}</span>`
        : `<button data-ack="${a.id}">Acknowledge</button>`) +
      `</li>`
    ).join("");
}

async function loadAlarms() {
  try {
    const response = await api("/api/v1/alarms?state=open&limit=1000");
    state.alarmsAvailable = response.ok;
    if (response.ok) {
      state.alarms = new Map((await response.json()).alarms.map((a) => [a.id, a]));
    }
  } catch {
    state.alarmsAvailable = false;
  }
  schedule();
}

document.addEventListener("click", async (e) => {
  const ack = e.target.closest("[data-ack]");
  if (ack) {
    const response = await api(`/api/v1/alarms/${ack.dataset.ack}/ack`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ by: "web view" }),
    });
    if (response.ok) {
      const { alarm } = await response.json();
      state.alarms.set(alarm.id, alarm);
      schedule();
    }
    return;
  }
  const range = e.target.closest("[data-range]");
  if (range) {
    state.range = range.dataset.range;
    if (state.selected) resetCharts();
    return;
  }
  const row = e.target.closest("[data-site]");
  if (row) select(row.dataset.site);
});

// ---- charts ----------------------------------------------------------------------------------

/** Chart ranges: raw points up to a day (extended live), 10-minute means over a week. */
const RANGES = {
  "6h": { s: 6 * 3600 },
  "24h": { s: 24 * 3600 },
  "7d": { s: 7 * 86400, stepS: 600 },
};

function select(siteId, force = false) {
  if (!force && state.selected === siteId) return;
  state.selected = siteId;
  history.replaceState(null, "", `?site=${encodeURIComponent(siteId)}`);
  resetCharts();
  schedule();
}

function resetCharts() {
  state.series = null;
  for (const c of state.charts) c.plot.destroy();
  state.charts = [];
  $("charts").innerHTML = "";
  $("charts").dataset.points = "0";
  for (const b of document.querySelectorAll("[data-range]")) {
    b.classList.toggle("active", b.dataset.range === state.range);
  }
  loadCharts(state.selected);
}

/** The SoC chart's threshold lines follow the site's last command. */
function setLevels(site) {
  const c = site.lastCommand;
  const next = c
    ? {
      genStartSocPct: c.genStartSocPct,
      genStopSocPct: c.genStopSocPct,
      reserveSocPct: c.reserveSocPct,
    }
    : {};
  const changed = ["genStartSocPct", "genStopSocPct", "reserveSocPct"]
    .some((k) => next[k] !== state.levels[k]);
  if (!changed) return;
  for (const k of Object.keys(state.levels)) delete state.levels[k];
  Object.assign(state.levels, next);
  for (const chart of state.charts) chart.plot.redraw(false);
}

/** The chart range's query: from the site's newest telemetry back, in buckets for long ones. */
function rangeQuery(site) {
  const range = RANGES[state.range];
  const end = site?.lastSeen ? Date.parse(site.lastSeen) : null;
  const from = end === null ? "" : `&from=${end - range.s * 1000}`;
  return `${from}${range.stepS ? `&step=${range.stepS}` : ""}`;
}

async function loadCharts(siteId) {
  const site = state.sites.get(siteId);
  if (site) setLevels(site);
  state.loading = true;
  try {
    const response = await api(
      `/api/v1/sites/${encodeURIComponent(siteId)}/telemetry?format=columns${rangeQuery(site)}`,
    );
    if (!response.ok || state.selected !== siteId) return;
    state.series = toSeries((await response.json()).columns);
    state.charts = drawCharts($("charts"), state.series, state.levels);
  } finally {
    state.loading = false;
  }
}

/**
 * New telemetry for the site shown: fetch only what came after the last point; a bucketed
 * range is fetched again once a new bucket is complete.
 */
async function extendCharts(site) {
  if (!state.series || state.loading || !site.lastSeen) return;
  const last = state.series.time.at(-1) ?? null;
  const stepS = RANGES[state.range].stepS;
  if (stepS) {
    if (last === null || Date.parse(site.lastSeen) / 1000 >= last + 2 * stepS) resetCharts();
    return;
  }
  if (last !== null && Date.parse(site.lastSeen) / 1000 <= last) return;
  state.loading = true;
  try {
    const after = last === null ? "" : `&from=${Math.round(last * 1000) + 1}`;
    const response = await api(
      `/api/v1/sites/${encodeURIComponent(site.siteId)}/telemetry?format=columns${after}`,
    );
    if (!response.ok || state.selected !== site.siteId || !state.series) return;
    const more = toSeries((await response.json()).columns);
    const s = state.series;
    for (const key of Object.keys(s)) s[key].push(...more[key]);
    const cut = s.time.findIndex((t) => t >= s.time.at(-1) - RANGES[state.range].s);
    if (cut > 0) { for (const key of Object.keys(s)) s[key].splice(0, cut); }
    for (const c of state.charts) c.plot.setData(c.data());
    $("charts").dataset.points = String(s.time.length);
  } finally {
    state.loading = false;
  }
}

connect();
