// The fleet table and the formatting the page shares: numbers with units, hours, durations and
// HTML escaping (every value from the API goes through esc before it meets innerHTML).

export const fmt = (v, digits = 0, unit = "") =>
  v === null || v === undefined ? "–" : `${Number(v).toFixed(digits)}${unit}`;
export const hours = (h) => (h >= 168 ? "168+" : h.toFixed(h < 10 ? 1 : 0));
export const esc = (s) =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );

export function duration(s) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function rowHtml(s) {
  const l = s.latest;
  const p = s.prediction;
  const status = s.offline ? "offline" : s.status;
  const soc = p?.socPct ?? l?.socPct;
  return `<td>${esc(s.siteId)}</td><td class="st-${status}">${status}</td>` +
    `<td class="src-${l?.source ?? ""}">${l?.source ?? "–"}</td>` +
    `<td class="num">${fmt(soc, 0, " %")}</td><td class="num">${fmt(l?.batteryV, 1, " V")}</td>` +
    `<td class="num">${fmt(l?.loadW, 0, " W")}</td><td class="num">${fmt(l?.pvW, 0, " W")}</td>` +
    `<td class="num">${fmt(l?.fuelPct, 0, " %")}</td>` +
    `<td class="num">${p ? hours(p.batteryH) : "–"}</td><td class="num">${
      p ? hours(p.dieselH) : "–"
    }</td>` +
    `<td>${s.lastCommand?.mode ?? "–"}</td><td class="num">${s.openAlarms || ""}</td>` +
    `<td class="num">${s.silentS === null ? "–" : duration(s.silentS) + " ago"}</td>`;
}

/**
 * The fleet table in site order. Rows are kept and only a row whose text changed is rewritten:
 * at 1000 sites a full rebuild every second would cost the browser tens of milliseconds.
 */
const rows = new Map();
export function renderTable(body, sites, selected) {
  const ids = sites.map((s) => s.siteId);
  if (ids.length !== rows.size || ids.some((id, i) => body.rows[i]?.dataset.site !== id)) {
    rows.clear();
    body.textContent = "";
    for (const id of ids) {
      const tr = document.createElement("tr");
      tr.dataset.site = id;
      rows.set(id, { tr, html: "" });
      body.append(tr);
    }
  }
  for (const s of sites) {
    const row = rows.get(s.siteId);
    const html = rowHtml(s);
    if (html !== row.html) {
      row.tr.innerHTML = html;
      row.html = html;
    }
    row.tr.classList.toggle("selected", s.siteId === selected);
  }
}
