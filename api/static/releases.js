// Releases: each release's stage and status, the bundle it ships (prompt version,
// model route, retrieval settings), its gates against the current release over the
// same window, its history, and the start, promote and rollback buttons (admin).
// A server without release routes (404) says so instead of failing.

import { ApiError, get, post, problem } from "./api.js";
import { badge, fill, h, table, when } from "./dom.js";

const NOT_AVAILABLE = "Releases are not available on this server.";
const TONE = { current: "ok", staged: "warn", draft: "plain", rolled_back: "bad", superseded: "plain" };

function value(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function gateBadge(g) {
  if (g.candidate === null || g.candidate === undefined) return badge("no data yet");
  return g.passed ? badge("passed", "ok") : badge("failed", "bad");
}

function gates(list) {
  if (!list || !list.length) return h("p", { class: "muted" }, "Gates are judged while a release is staged.");
  return table(["Gate", "Candidate", "Current", "Tolerance", "", "Note"],
    list.map((g) => h("tr", { "data-gate": g.name, "data-passed": String(Boolean(g.passed)) },
      h("td", null, g.name), h("td", null, value(g.candidate)), h("td", null, value(g.current)),
      h("td", null, value(g.tolerance)), h("td", null, gateBadge(g)), h("td", { class: "small" }, g.note || ""))),
    { class: "gates" });
}

function bundle(b) {
  if (!b) return h("p", { class: "muted" }, "No bundle.");
  const rows = [["Prompt", b.prompt_name ? `${b.prompt_name} v${b.prompt_version ?? "?"}` : "—"], ["Route", value(b.route)]];
  for (const [k, v] of Object.entries(b.settings || {})) rows.push([k, value(v)]);
  return h("dl", { class: "meta" }, rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

function history(events) {
  if (!events || !events.length) return h("p", { class: "muted" }, "No event.");
  return table(["When", "Action", "Stage", "By", "Details"],
    events.map((e) => [when(e.at), e.action, `${e.from_percent}% → ${e.to_percent}%`, e.by || "—",
      h("code", { class: "small" }, e.details ? JSON.stringify(e.details) : "")]),
    { class: "events" });
}

function card(r, reload) {
  const note = h("p", { class: "small", role: "status", "data-field": "action-status" });
  const more = h("div", { class: "release-history" });
  const reason = h("input", { type: "text", maxlength: "2000", placeholder: "why (optional)", "data-field": "rollback-reason" });
  const act = (verb, body) => async () => {
    note.className = "muted small";
    note.textContent = `${verb}…`;
    try {
      await post(`/releases/${encodeURIComponent(r.id)}/${verb}`, body ? body() : {});
      reload(`${r.id}: ${verb} done.`);
    } catch (error) {
      fill(note, problem(error));
      if (verb === "promote" && error instanceof ApiError && error.status === 409) {
        note.append(h("button", { type: "button", class: "danger small-button", "data-action": "force",
          onclick: act("promote", () => ({ force: true })) }, "Promote anyway"));
      }
    }
  };
  const showHistory = async () => {
    fill(more, h("p", { class: "muted" }, "Loading…"));
    try {
      const detail = await get(`/releases/${encodeURIComponent(r.id)}`);
      fill(more, h("h3", null, "History"), history(detail.events));
    } catch (error) {
      fill(more, problem(error));
    }
  };
  const stage = Number(r.stage_percent ?? 0);
  const live = r.status === "staged" || r.status === "current";
  return h("section", { class: "card release", "data-release": r.id, "data-status": r.status },
    h("h2", null, `Release ${r.id} (v${r.version}) `, badge(r.status.replace("_", " "), TONE[r.status])),
    h("p", { class: "small muted" }, `Created ${when(r.created_at)}${r.created_by ? ` by ${r.created_by}` : ""}`,
      r.stage_started_at ? ` · this stage since ${when(r.stage_started_at)}` : "", r.ended_at ? ` · ended ${when(r.ended_at)}` : ""),
    r.note ? h("p", null, r.note) : null,
    h("p", null, "Stage ", h("progress", { max: "100", value: String(stage) }), ` ${stage}% of traffic`),
    r.reason ? h("p", { class: r.status === "rolled_back" ? "problem" : "muted", "data-field": "reason" }, `Reason: ${r.reason}`) : null,
    r.window ? h("p", { class: "small muted" }, `Window ${r.window.epoch}, compared with ${r.window.against}`) : null,
    h("div", { class: "columns" },
      h("div", null, h("h3", null, "Bundle"), bundle(r.bundle)),
      h("div", null, h("h3", null, "Gates"), gates(r.gates))),
    h("div", { class: "actions" },
      r.status === "draft" ? h("button", { type: "button", "data-action": "start", onclick: act("start") }, "Start rollout") : null,
      r.status === "staged" ? h("button", { type: "button", "data-action": "promote", onclick: act("promote") }, "Promote") : null,
      live ? reason : null,
      live ? h("button", { type: "button", class: "danger", "data-action": "rollback",
        onclick: act("rollback", () => (reason.value.trim() ? { reason: reason.value.trim() } : {})) }, "Roll back") : null,
      h("button", { type: "button", class: "small-button", "data-action": "history", onclick: showHistory }, "History")),
    note,
    more);
}

async function load(list, message) {
  let body;
  try {
    body = await get("/releases");
  } catch (error) {
    fill(list, problem(error, { notFound: NOT_AVAILABLE }));
    return;
  }
  const releases = Array.isArray(body) ? body : body?.releases || [];
  const reload = (done) => load(list, done);
  fill(list,
    message ? h("p", { class: "ok", id: "releases-message", role: "status" }, message) : null,
    h("p", { class: "muted small", id: "releases-summary" },
      `Current: ${body?.current || "none (the service's own settings answer)"} · rolling out: ${body?.staged || "none"}`),
    releases.length ? releases.map((r) => card(r, reload)) : h("p", { class: "muted" }, "No release yet (ragline release create, or POST /releases)."));
}

export function render(root) {
  const list = h("div", { id: "releases-list" }, h("p", { class: "muted" }, "Loading…"));
  root.append(h("h1", null, "Releases"), list);
  load(list);
}
