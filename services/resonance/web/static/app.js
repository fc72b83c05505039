// Resonance dashboard: our own small script (no third-party code). Calls the JSON API with the
// session cookie and the page's CSRF token.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  async function api(method, path, body) {
    const res = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json() : await res.text();
    return { ok: res.ok, status: res.status, data };
  }
  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };
  const message = (d) => (d && d.detail ? (typeof d.detail === "string" ? d.detail : (d.detail.sqlstate ? d.detail.sqlstate + ": " : "") + d.detail.message) : JSON.stringify(d));

  document.querySelectorAll("select.autosubmit").forEach((s) => s.addEventListener("change", () => s.form.submit()));

  // SQL console
  const form = document.getElementById("console-form");
  if (form) {
    let last = null;
    const status = document.getElementById("console-status");
    const out = document.getElementById("console-result");
    const csvButton = document.getElementById("csv");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      status.textContent = "running…"; out.textContent = "";
      const r = await api("POST", "/api/query/execute", { sql: document.getElementById("sql").value });
      if (!r.ok) {
        status.textContent = message(r.data); status.className = "error";
        if (r.data.detail && r.data.detail.usage) status.textContent += ` (used ${r.data.detail.usage.queries_used} of ${r.data.detail.usage.queries_limit})`;
        return;
      }
      last = r.data; csvButton.disabled = false; status.className = "";
      status.textContent = `${r.data.row_count} rows${r.data.truncated ? " (truncated)" : ""}` +
        (r.data.queries_limit ? ` · ${r.data.queries_left} of ${r.data.queries_limit} queries left this month` : " · unlimited queries");
      const left = document.getElementById("quota-left"); if (left && r.data.queries_left !== null) left.textContent = r.data.queries_left;
      const used = document.getElementById("quota-used"); if (used) used.textContent = r.data.queries_used;
      const table = el("table"); table.id = "result-table";
      const head = el("tr"); r.data.columns.forEach((c) => head.appendChild(el("th", c)));
      table.appendChild(el("thead")).appendChild(head);
      const body = table.appendChild(el("tbody"));
      r.data.rows.forEach((row) => { const tr = el("tr"); r.data.columns.forEach((c) => tr.appendChild(el("td", row[c] === null ? "" : typeof row[c] === "object" ? JSON.stringify(row[c]) : String(row[c])))); body.appendChild(tr); });
      out.appendChild(table);
    });
    csvButton.addEventListener("click", () => {
      if (!last) return;
      const q = (v) => { const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
      const lines = [last.columns.map(q).join(",")].concat(last.rows.map((row) => last.columns.map((c) => q(row[c])).join(",")));
      const a = el("a"); a.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" })); a.download = "query.csv";
      document.body.appendChild(a); a.click(); a.remove();
    });
  }

  // Extraction jobs: connect a bot, start a job, watch it live
  const bot = document.getElementById("bot-form");
  if (bot) {
    bot.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await api("POST", "/api/bot/connect", { guild_id: document.getElementById("guild-id").value, token: document.getElementById("bot-token").value });
      document.getElementById("bot-status").textContent = r.ok ? `Bot ${r.data.status}: guild ${r.data.guild_id}` : message(r.data);
    });
  }
  const live = document.getElementById("job-live");
  async function watch(id) {
    for (;;) {
      const r = await api("GET", "/api/extraction/status/" + id);
      if (!r.ok) { live.textContent = message(r.data); return; }
      const p = r.data.progress || {};
      live.textContent = `job ${id.slice(0, 8)}: ${r.data.status} · ${p.messages_synced || 0} messages synced` + (r.data.error ? " · " + r.data.error : "");
      live.dataset.status = r.data.status;
      const row = document.querySelector(`tr[data-job="${id}"] .status`); if (row) row.textContent = r.data.status;
      if (!["queued", "running"].includes(r.data.status)) return;
      await new Promise((ok) => setTimeout(ok, 700));
    }
  }
  const start = document.getElementById("start-form");
  if (start) {
    start.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await api("POST", "/api/extraction/start", { sync_days: Number(document.getElementById("sync-days").value) });
      if (!r.ok) { live.textContent = message(r.data); live.className = "error"; return; }
      live.className = ""; watch(r.data.job_id);
    });
    document.querySelectorAll("button.cancel").forEach((b) => b.addEventListener("click", async () => {
      const r = await api("POST", "/api/extraction/cancel/" + b.dataset.job); live.textContent = r.ok ? r.data.status : message(r.data);
    }));
    const active = document.querySelector('tr[data-job] .status');
    if (active && ["queued", "running"].includes(active.textContent)) watch(active.closest("tr").dataset.job);
  }

  // Billing
  document.querySelectorAll("button.checkout").forEach((b) => b.addEventListener("click", async () => {
    const r = await api("POST", "/api/billing/checkout/" + b.dataset.plan);
    if (r.ok) window.location.href = r.data.url; else document.getElementById("billing-status").textContent = message(r.data);
  }));
  const portal = document.getElementById("portal");
  if (portal) portal.addEventListener("click", async () => {
    const r = await api("POST", "/api/billing/portal");
    if (r.ok) window.location.href = r.data.url; else document.getElementById("billing-status").textContent = message(r.data);
  });
})();
