// Usage: cost per team and latency per route (from GET /metrics, which a key with the
// 'metrics' or 'admin' role may read), latency objectives (GET /slo, any key) and
// budgets with their alerts (GET /budgets, admin). Each section says on its own when
// the key lacks the role for it.

import { getText, get, problem } from "./api.js";
import { badge, fill, h, section, seconds, table, usd, when } from "./dom.js";

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Samples of the Prometheus text exposition: [{name, labels, value}]. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] || "").matchAll(LABEL)) labels[k] = v.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The q-quantile of a cumulative histogram [[le, count]], as Prometheus estimates it. */
export function quantile(q, buckets) {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(count - prevCount, 1e-12));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function costPerTeam(samples) {
  const teams = new Map();
  const team = (name) => {
    if (!teams.has(name)) teams.set(name, { answers: 0, prompt: 0, completion: 0, cost: 0 });
    return teams.get(name);
  };
  for (const s of samples) {
    if (s.name === "ragline_answers_total") team(s.labels.team).answers += s.value;
    else if (s.name === "ragline_llm_cost_usd_total") team(s.labels.team).cost += s.value;
    else if (s.name === "ragline_llm_tokens_total") team(s.labels.team)[s.labels.kind === "completion" ? "completion" : "prompt"] += s.value;
  }
  return [...teams.entries()].sort((a, b) => b[1].cost - a[1].cost || a[0].localeCompare(b[0]));
}

function latencyPerRoute(samples) {
  const routes = new Map();
  for (const s of samples) {
    if (!s.name.startsWith("ragline_http_request_duration_seconds")) continue;
    const key = `${s.labels.method} ${s.labels.route}`;
    if (!routes.has(key)) routes.set(key, { buckets: [], sum: 0, count: 0 });
    const r = routes.get(key);
    if (s.name.endsWith("_bucket")) r.buckets.push([s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), s.value]);
    else if (s.name.endsWith("_sum")) r.sum = s.value;
    else if (s.name.endsWith("_count")) r.count = s.value;
  }
  return [...routes.entries()].filter(([, r]) => r.count > 0).sort((a, b) => b[1].count - a[1].count);
}

async function metricsSections(costBody, latencyBody) {
  let samples;
  try {
    samples = parseMetrics(await getText("/metrics"));
  } catch (error) {
    fill(costBody, problem(error));
    fill(latencyBody, problem(error));
    return;
  }
  const teams = costPerTeam(samples);
  fill(costBody, teams.length
    ? table(["Team", "Answers", "Prompt tokens", "Completion tokens", "Cost"],
      teams.map(([name, t]) => [name, String(t.answers), String(t.prompt), String(t.completion), usd(t.cost)]), { id: "cost-table" })
    : h("p", { class: "muted" }, "No answer since this process started."),
  h("p", { class: "muted small" }, "Since this API process started; Prometheus keeps the history across replicas."));
  const routes = latencyPerRoute(samples);
  fill(latencyBody, routes.length
    ? table(["Route", "Requests", "Mean", "p50", "p95", "p99"],
      routes.map(([name, r]) => [h("code", null, name), String(r.count), seconds(r.sum / r.count),
        seconds(quantile(0.5, r.buckets)), seconds(quantile(0.95, r.buckets)), seconds(quantile(0.99, r.buckets))]), { id: "latency-table" })
    : h("p", { class: "muted" }, "No request measured yet."),
  h("p", { class: "muted small" }, "Quantiles estimated from the histogram buckets, as Prometheus's histogram_quantile does."));
}

async function sloSection(body) {
  try {
    const slo = await get("/slo");
    const rows = [];
    for (const [route, quantiles] of Object.entries(slo.routes)) {
      for (const [name, q] of Object.entries(quantiles)) {
        rows.push([h("code", null, route), name, seconds(q.objective), seconds(q.observed),
          q.met === null ? badge("no data") : q.met ? badge("met", "ok") : badge("missed", "bad"), String(q.samples)]);
      }
    }
    fill(body, rows.length ? table(["Route", "Quantile", "Objective", "Observed", "", "Samples"], rows, { id: "slo-table" }) : h("p", { class: "muted" }, "No objective configured."),
      h("p", { class: "muted small" }, `Over the last ${seconds(slo.window_s)} of this API process.`));
  } catch (error) {
    fill(body, problem(error));
  }
}

function limit(spent, soft, hard) {
  const parts = [usd(spent)];
  if (soft != null) parts.push(`soft ${usd(soft)}`);
  if (hard != null) parts.push(`hard ${usd(hard)}`);
  return parts.join(" · ");
}

async function budgetSection(body) {
  try {
    const b = await get("/budgets");
    if (!b.configured) {
      fill(body, h("p", { class: "muted" }, "No budget configured (budgets live in the models file)."));
      return;
    }
    const tone = { ok: "ok", soft: "warn", hard: "bad" };
    fill(body,
      h("p", { class: "small muted" }, `At a hard limit: ${b.on_hard_limit}.`),
      b.budgets.length
        ? table(["Scope", "Who", "Today", "This month", "State"],
          b.budgets.map((s) => [s.scope, s.subject, limit(s.day_spent_usd, s.daily_soft_usd, s.daily_hard_usd),
            limit(s.month_spent_usd, s.monthly_soft_usd, s.monthly_hard_usd), badge(s.state, tone[s.state])]), { id: "budgets-table" })
        : h("p", { class: "muted" }, "No budget."),
      h("h3", null, "Alerts"),
      b.alerts.length
        ? h("ul", { id: "budget-alerts" }, b.alerts.map((a) => h("li", null, `${when(a.created_at)}: ${a.scope} ${a.subject} reached its ${a.kind} ${a.period} limit of ${usd(a.limit_usd)} (spent ${usd(a.spent_usd)})`)))
        : h("p", { class: "muted" }, "No limit reached lately."));
  } catch (error) {
    fill(body, problem(error));
  }
}

export function render(root) {
  root.append(h("h1", null, "Usage"));
  const cost = section("Cost per team", "cost");
  const latency = section("Latency per route", "latency");
  const slo = section("Latency objectives", "slo");
  const budgets = section("Budgets", "budgets");
  root.append(cost.node, latency.node, slo.node, budgets.node);
  metricsSections(cost.body, latency.body);
  sloSection(slo.body);
  budgetSection(budgets.body);
}
