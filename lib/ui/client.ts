/**
 * The page script of the console (served as /static/console.js; no build step): live updates from
 * the server-sent events (/api/events): a change of the release files re-fetches the page's main
 * part, an operation's lines go to the log; the buttons send their action with the session's CSRF
 * token, production's asking for the environment's name typed again.
 */
export const CLIENT_JS = `"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const view = document.getElementById("view");
  const log = document.getElementById("log");
  const result = document.getElementById("result");
  const live = document.getElementById("live");
  // What runs, per environment: read at most every 10 s, shown again from memory in between.
  const seen = new Map();
  const part = (x, show) => (x && x.error ? "cannot be read (" + x.error + ")" : show(x));
  const slots = (v) => ["blue", "green"].map((s) => s + " " + v[s].healthy + " healthy, " + v[s].unhealthy + " unhealthy").join("; ");
  const alarms = (a) => {
    const bad = a.filter((x) => x.state !== "OK");
    return bad.length ? bad.map((x) => x.name + " " + x.state).join(", ") : a.length + " OK";
  };
  async function read(env) {
    const r = await fetch("/api/environments/" + encodeURIComponent(env) + "/health", { credentials: "same-origin" });
    if (!r.ok) return { text: "health: cannot be read (" + r.status + ")", state: "unknown" };
    const h = await r.json();
    const text = ["targets: " + part(h.health, slots), "ALB: " + part(h.weights, (w) => "blue " + w.blue + " / green " + w.green),
      "alarms: " + part(h.alarms, alarms)].join(" · ");
    const m = await (await fetch("/api/environments/" + encodeURIComponent(env) + "/metrics", { credentials: "same-origin" })).json();
    const sums = (t) => ["blue", "green"].map((s) => s + " " + t[s].requests + " req, " + t[s].target5xx + " 5xx, p99 "
      + (t[s].p99Seconds === null ? "–" : t[s].p99Seconds.toFixed(3) + " s")).join("; ");
    const hour = "last hour: " + part(m, (x) => sums(x.totals));
    return { text: text + " · " + hour, state: [h.health, h.weights, h.alarms, m].some((x) => x && x.error) ? "unknown" : "read" };
  }
  async function health(el) {
    const env = el.dataset.health;
    let s = seen.get(env);
    if (!s || Date.now() - s.at > 10000) {
      s = { at: Date.now(), ...(await read(env)) };
      seen.set(env, s);
    }
    el.textContent = s.text;
    el.dataset.state = s.state;
  }
  const healths = () => document.querySelectorAll("[data-health]").forEach((el) => health(el).catch(() => undefined));
  let refreshing = false;
  let soon = 0;
  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const r = await fetch(location.pathname, { headers: { "x-fragment": "1" }, credentials: "same-origin" });
      if (r.ok) view.innerHTML = await r.text();
      healths();
    } finally {
      refreshing = false;
    }
  }
  const say = (text) => {
    log.textContent += text + "\\n";
    log.scrollTop = log.scrollHeight;
  };
  function connect() {
    const es = new EventSource("/api/events");
    es.onopen = () => { live.textContent = "live"; };
    es.onerror = () => { live.textContent = "reconnecting…"; };
    es.addEventListener("changed", refresh);
    es.addEventListener("line", (m) => {
      // a poll of a step baking: the rollout view shows it (at most twice a second)
      if (/poll \\d+:/.test(m.data) && !soon) soon = setTimeout(() => { soon = 0; refresh(); }, 400);
      const e = JSON.parse(m.data);
      say(e.environment + ": " + e.text);
    });
    es.addEventListener("end", (m) => { const e = JSON.parse(m.data); say(e.environment + ": " + e.status); refresh(); });
  }
  const ACTIONS = {
    rollout: (env) => ["rollout", { continue: false }],
    "rollout-continue": (env) => ["rollout", { continue: true }],
    pause: () => ["pause", {}],
    abort: () => ["abort", {}],
    rollback: () => ["rollback", {}],
  };
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b) return;
    const env = b.dataset.env;
    const [action, body] = ACTIONS[b.dataset.action](env);
    if (b.dataset.tier === "production" && action !== "pause") {
      const typed = window.prompt(env + " is production: type its name to confirm " + action);
      if (typed === null) return;
      body.confirm = typed;
    }
    b.disabled = true;
    try {
      const r = await fetch("/api/environments/" + encodeURIComponent(env) + "/" + action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify(body),
      });
      const data = await r.json();
      result.textContent = r.status === 202 ? action + " running (operation " + data.id + ")"
        : r.ok ? action + ": " + data.status : action + " refused (" + r.status + "): " + data.error;
      result.dataset.status = String(r.status);
    } finally {
      b.disabled = false;
      refresh();
    }
  });
  connect();
  healths();
})();
`;
