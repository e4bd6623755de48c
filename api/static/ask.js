// Ask: POST /ask, then the answer with its [n] markers as buttons that reveal the
// cited passage, each claim marked supported or not (grounding.unsupported), what
// answered (model, prompt, release) and what it cost, and a rating (POST /feedback).

import { post, problem } from "./api.js";
import { badge, fill, h, percent, usd } from "./dom.js";

const MARKERS = /((?:\s*\[\d+\])+)/;
const WORDY = /[\p{L}\p{N}]/u; // a claim, not the full stop after its marker

function normal(text) {
  return text.replace(/\s*\[\d+\]/g, "").replace(/\s+/g, " ").trim().toLowerCase();
}

/** The answer as claims: text up to and including its run of [n] markers. */
function claims(answer) {
  const parts = answer.split(MARKERS);
  const out = [];
  for (let i = 0; i < parts.length; i += 2) {
    const text = parts[i];
    const markers = parts[i + 1] ? [...parts[i + 1].matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])) : [];
    if (text.trim() || markers.length) out.push({ text, markers });
  }
  return out;
}

function citationLine(c) {
  const where = [c.source, c.section && `section “${c.section}”`, c.page != null && `page ${c.page}`].filter(Boolean);
  return where.join(" · ");
}

function renderAnswer(data, cited) {
  const unsupported = (data.grounding?.unsupported || []).map(normal).filter(Boolean);
  const isUnsupported = (text) => {
    const n = normal(text);
    return n && unsupported.some((u) => n.includes(u) || u.includes(n));
  };
  const buttons = [];
  const reveal = (n) => {
    const c = data.citations[n - 1];
    for (const b of buttons) b.setAttribute("aria-expanded", String(Number(b.dataset.n) === n));
    if (!c) {
      fill(cited, h("p", { class: "problem" }, `Citation [${n}] is not in the response.`));
      return;
    }
    fill(
      cited,
      h("h3", null, `[${n}] `, c.title || c.source || c.document_id),
      h("p", { class: "muted small", "data-field": "where" }, citationLine(c)),
      h("blockquote", { class: "cited-text" }, c.text),
    );
    cited.hidden = false;
  };
  const paragraph = h("p", { class: "answer-text", id: "answer-text" });
  let total = 0;
  let flagged = 0;
  for (const claim of claims(data.answer)) {
    const bad = isUnsupported(claim.text);
    if (WORDY.test(claim.text)) {
      total += 1;
      if (bad) flagged += 1;
    }
    const span = h("span", {
      class: `claim ${bad ? "unsupported" : "supported"}`,
      title: bad ? "Not supported by the passages it cites" : "Supported by its citations",
    }, claim.text);
    for (const n of claim.markers) {
      const button = h("button", { type: "button", class: "cite", "data-n": n, "aria-expanded": "false", onclick: () => reveal(n) }, `[${n}]`);
      buttons.push(button);
      span.append(" ", button);
    }
    paragraph.append(span);
  }
  return { paragraph, total, flagged };
}

function meta(data) {
  const rows = [["Model", data.model]];
  if (data.prompt) rows.push(["Prompt", `${data.prompt.name} v${data.prompt.version} (${data.prompt.label})`]);
  if (data.release !== undefined && data.release !== null) {
    const r = data.release;
    rows.push(["Release", typeof r === "object" ? `${r.id} (v${r.version}${r.arm ? `, ${r.arm}` : ""})` : String(r)]);
  }
  if (data.usage) {
    rows.push(["Tokens", `${data.usage.prompt_tokens} in, ${data.usage.completion_tokens} out`]);
    rows.push(["Cost", usd(data.usage.cost_usd)]);
  } else {
    rows.push(["Cost", "no model call (extractive answer)"]);
  }
  rows.push(["Latency", `${Math.round(data.latency_ms)} ms`]);
  rows.push(["Answer id", data.answer_id]);
  if (data.failed_deployments?.length) rows.push(["Failed before", data.failed_deployments.join(", ")]);
  if (data.grounding_action) rows.push(["Low-grounding policy", data.grounding_action]);
  if (data.citations_removed) rows.push(["Citations removed", String(data.citations_removed)]);
  return h("dl", { class: "meta", id: "answer-meta" }, rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", { "data-field": k.toLowerCase() }, v)]));
}

function feedback(data) {
  const status = h("span", { class: "muted", id: "feedback-status", role: "status" });
  const comment = h("input", { id: "feedback-comment", type: "text", maxlength: "2000", placeholder: "Why? (optional)" });
  const rate = async (rating) => {
    status.textContent = "Sending…";
    try {
      const body = { answer_id: data.answer_id, rating };
      if (comment.value.trim()) body.comment = comment.value.trim();
      const out = await post("/feedback", body);
      status.className = "ok";
      status.textContent = `Thanks: rated ${out.rating}${out.replaced ? " (replaces your earlier rating)" : ""}${out.queued_for_review ? "; sent to review" : ""}.`;
    } catch (error) {
      fill(status, problem(error));
    }
  };
  return h(
    "div",
    { class: "feedback" },
    h("span", null, "Was this useful? "),
    h("button", { type: "button", id: "thumbs-up", "aria-label": "Thumbs up", onclick: () => rate("up") }, "▲ Helpful"),
    h("button", { type: "button", id: "thumbs-down", "aria-label": "Thumbs down", onclick: () => rate("down") }, "▼ Not helpful"),
    comment,
    status,
  );
}

function renderResult(out, data) {
  const cited = h("div", { class: "cited card inset", id: "cited", hidden: true });
  const { paragraph, total, flagged } = renderAnswer(data, cited);
  const score = data.grounding?.score;
  const tone = score >= 0.75 ? "ok" : score >= 0.5 ? "warn" : "bad";
  const flags = [];
  if (!data.found) flags.push(badge("nothing found", "warn"));
  if (data.degraded) flags.push(badge("degraded", "bad"));
  const unsupported = data.grounding?.unsupported || [];
  fill(
    out,
    h("section", { class: "card", id: "answer", "data-answer-id": data.answer_id }, h("h2", null, "Answer ", flags), paragraph, cited,
      data.degraded_reason ? h("p", { class: "problem small" }, data.degraded_reason) : null,
      (data.budget_warnings || []).map((w) => h("p", { class: "warn small" }, w))),
    h(
      "section",
      { class: "card", id: "grounding" },
      h("h2", null, "Grounding"),
      h("p", null, "Score ", badge(percent(score), tone), h("meter", { min: "0", max: "1", low: "0.5", high: "0.75", optimum: "1", value: String(score ?? 0) }),
        ` ${total - flagged} of ${total} sentences supported by what they cite.`),
      unsupported.length
        ? h("div", null, h("h3", null, "Unsupported sentences"), h("ul", { id: "unsupported" }, unsupported.map((s) => h("li", null, s))))
        : h("p", { class: "muted" }, "No unsupported sentence."),
    ),
    h(
      "section",
      { class: "card", id: "sources" },
      h("h2", null, "Sources"),
      data.citations.length
        ? h("ol", null, data.citations.map((c) => h("li", null, h("strong", null, c.title || c.source || c.document_id), " ", h("span", { class: "muted small" }, citationLine(c)))))
        : h("p", { class: "muted" }, "No source cited."),
    ),
    h("section", { class: "card", id: "about" }, h("h2", null, "How it was answered"), meta(data), feedback(data)),
  );
}

export function render(root) {
  const question = h("textarea", { id: "question", rows: "3", required: true, maxlength: "4000", placeholder: "Ask a question about your documents" });
  const button = h("button", { type: "submit", id: "ask-button" }, "Ask");
  const out = h("div", { id: "ask-result" });
  const form = h("form", { class: "card", id: "ask-form" }, h("h1", null, "Ask"), h("label", { for: "question" }, "Question"), question, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    button.disabled = true;
    fill(out, h("p", { class: "muted", id: "asking" }, "Searching your documents…"));
    try {
      renderResult(out, await post("/ask", { question: text }));
    } catch (error) {
      fill(out, problem(error));
    } finally {
      button.disabled = false;
    }
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  root.append(form, out);
  question.focus();
}
