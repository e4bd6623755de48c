// Review: the queue of answers to check (GET /review), one item with its question,
// answer and cited text (GET /review/<id>), and a decision (POST /review/<id>).
// Reviewers and admins only; a reviewer opens only answers citing what they may read.

import { get, post, problem } from "./api.js";
import { badge, fill, h, percent, table, when } from "./dom.js";

const STATUSES = ["open", "approved", "rejected", "corrected", "all"];

function listPage(root) {
  const status = h("select", { id: "review-status" }, STATUSES.map((s) => h("option", { value: s }, s)));
  const list = h("div", { id: "review-list" }, h("p", { class: "muted" }, "Loading…"));
  const load = async () => {
    try {
      const page = await get(`/review?status=${encodeURIComponent(status.value)}&limit=200`);
      fill(list, page.items.length
        ? table(
          ["Item", "Status", "Reasons", "Grounding", "Degraded", "Queued", ""],
          page.items.map((i) => h("tr", { "data-item": i.item_id, "data-answer": i.answer_id },
            h("td", null, h("code", null, i.item_id)),
            h("td", null, badge(i.status, i.status === "open" ? "warn" : "ok")),
            h("td", null, i.reasons.join(", ")),
            h("td", null, percent(i.grounding)),
            h("td", null, i.degraded ? "yes" : "no"),
            h("td", { class: "small" }, when(i.created_at)),
            h("td", null, h("a", { href: `#/review/${encodeURIComponent(i.item_id)}`, class: "button-link" }, "Open")))),
          { id: "review-table" },
        )
        : h("p", { class: "muted", id: "review-empty" }, "Nothing in the queue with this status."));
      list.append(h("p", { class: "muted small" }, `${page.total} in all.`));
    } catch (error) {
      fill(list, problem(error));
    }
  };
  status.addEventListener("change", load);
  root.append(h("section", { class: "card" }, h("div", { class: "controls" }, h("label", { for: "review-status" }, "Status "), status), list));
  load();
}

function decisionForm(item, done) {
  const decision = h("select", { id: "decision" }, ["approve", "reject", "correct"].map((d) => h("option", { value: d }, d)));
  const corrected = h("textarea", { id: "corrected-answer", rows: "3", placeholder: "The right answer (for correct)" });
  const source = h("input", { id: "expected-source", type: "text", placeholder: "file name a right answer cites" });
  const terms = h("input", { id: "expected-terms", type: "text", placeholder: "comma-separated" });
  const note = h("input", { id: "decision-note", type: "text", placeholder: "\"unanswerable\" with reject exports it so" });
  const status = h("p", { id: "decision-status", role: "status", class: "muted" });
  const form = h("form", { class: "grid-form", id: "decision-form" },
    h("label", { for: "decision" }, "Decision"), decision,
    h("label", { for: "corrected-answer" }, "Corrected answer"), corrected,
    h("label", { for: "expected-source" }, "Expected source"), source,
    h("label", { for: "expected-terms" }, "Expected terms"), terms,
    h("label", { for: "decision-note" }, "Note"), note,
    h("span"), h("button", { type: "submit", id: "decide" }, "Save decision"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { decision: decision.value, expected_terms: terms.value.split(",").map((t) => t.trim()).filter(Boolean) };
    if (corrected.value.trim()) body.corrected_answer = corrected.value.trim();
    if (source.value.trim()) body.expected_source = source.value.trim();
    if (note.value.trim()) body.note = note.value.trim();
    try {
      const out = await post(`/review/${encodeURIComponent(item.item_id)}`, body);
      status.className = "ok";
      status.textContent = `Saved: ${out.status}.`;
      done(out);
    } catch (error) {
      fill(status, problem(error));
    }
  });
  return h("div", null, form, status);
}

async function detailPage(root, id) {
  root.append(h("p", null, h("a", { href: "#/review" }, "← the queue")));
  const body = h("div", { id: "review-detail" }, h("p", { class: "muted" }, "Loading…"));
  root.append(body);
  let detail;
  try {
    detail = await get(`/review/${encodeURIComponent(id)}`);
  } catch (error) {
    fill(body, problem(error));
    return;
  }
  const item = detail.item;
  const state = badge(item.status, item.status === "open" ? "warn" : "ok");
  fill(
    body,
    h("section", { class: "card" },
      h("h2", null, "Item ", h("code", null, item.item_id), " ", state),
      h("p", { class: "small muted" }, `Reasons: ${item.reasons.join(", ")} · grounding ${percent(item.grounding)} · queued ${when(item.created_at)}`),
      detail.answer_available
        ? h("div", null,
          h("h3", null, "Question"), h("p", { id: "review-question" }, detail.question || "(not recorded)"),
          h("h3", null, "Answer"), h("p", { id: "review-answer" }, detail.answer || ""))
        : h("p", { class: "muted" }, "The answer's record is gone (erased or past retention).")),
    h("section", { class: "card" },
      h("h2", null, "Cited passages"),
      detail.citations.length
        ? h("ol", { id: "review-citations" }, detail.citations.map((c) => h("li", null,
          h("strong", null, `[${c.n ?? "?"}] `, c.title || c.source || c.document_id || "(unknown)"),
          c.available ? h("blockquote", { class: "cited-text" }, c.text) : h("p", { class: "muted" }, "No longer in the index."))))
        : h("p", { class: "muted" }, "No citation.")),
    h("section", { class: "card" },
      h("h2", null, "Feedback"),
      detail.feedback.length
        ? h("ul", null, detail.feedback.map((f) => h("li", null, `${f.rating} ${when(f.updated_at)}`, f.comment ? `: ${f.comment}` : "")))
        : h("p", { class: "muted" }, "No rating.")),
    h("section", { class: "card" }, h("h2", null, "Decision"), decisionForm(item, (out) => {
      state.textContent = out.status;
    })),
  );
}

export function render(root, params) {
  root.append(h("h1", null, "Review"));
  if (params[0]) detailPage(root, params[0]);
  else listPage(root);
}
