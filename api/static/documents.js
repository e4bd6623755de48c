// Documents: buckets with their index lag, schedule and refreshes (admin), an upload
// with a progress bar, and the documents the key may read with their status; a
// failed one shows its error code and reason and can be retried (admin).

import { get, post, problem, upload } from "./api.js";
import { badge, fill, h, section, seconds, table, when } from "./dom.js";

const STATUS_TONE = { indexed: "ok", failed: "bad", queued: "plain", processing: "warn" };
const POLL_MS = 700;
const POLL_LIMIT = 400;

function schedule(s) {
  if (!s) return "none";
  const how = s.cron ? `cron ${s.cron} (${s.timezone})` : `every ${seconds(s.every_s)}`;
  return `${how}; next ${when(s.next_run_at)}`;
}

function refreshSummary(r) {
  if (!r) return "never";
  return `${r.status} ${when(r.finished_at || r.started_at || r.queued_at)}`;
}

function refreshRows(refreshes) {
  if (!refreshes.length) return h("p", { class: "muted" }, "No refresh yet.");
  return table(
    ["Queued", "Trigger", "Status", "Progress", "New", "Changed", "Deleted", "Unchanged", "Failed", "Failures"],
    refreshes.map((r) => [
      when(r.queued_at),
      r.trigger,
      badge(r.status, r.status === "finished" ? "ok" : r.status === "failed" ? "bad" : "plain"),
      `${r.done} of ${r.total}`,
      r.new, r.changed, r.deleted, r.unchanged, r.failed,
      h("div", null, r.error ? h("div", { class: "problem small" }, r.error) : null,
        r.failures.map((f) => h("div", { class: "small" }, h("code", null, f.code), ` ${f.key}: ${f.message}`))),
    ]),
    { class: "refreshes" },
  );
}

async function loadBuckets(body, onBuckets) {
  let names;
  try {
    names = await get("/buckets");
  } catch (error) {
    fill(body, problem(error));
    onBuckets(null);
    return;
  }
  onBuckets(names);
  if (!names.length) {
    fill(body, h("p", { class: "muted" }, "No bucket yet (POST /buckets creates one)."));
    return;
  }
  const details = await Promise.all(names.map((b) => get(`/buckets/${encodeURIComponent(b.name)}`).catch((e) => e)));
  const history = h("div", { id: "refresh-history" });
  const rows = names.map((b, i) => {
    const d = details[i];
    if (d instanceof Error) return h("tr", null, h("td", null, b.name), h("td", { colspan: "7" }, problem(d)));
    const f = d.freshness;
    const lag = h("span", null, `${seconds(f.lag_s)} of ${seconds(f.max_lag_s)} `, f.over_sla ? badge("over SLA", "bad") : badge("within SLA", "ok"));
    const note = h("span", { class: "small", role: "status" });
    const refresh = h("button", { type: "button", class: "small-button", "data-action": "refresh", onclick: async () => {
      note.textContent = " queuing…";
      try {
        const run = await post(`/buckets/${encodeURIComponent(b.name)}/refresh`);
        note.textContent = ` refresh ${run.status}`;
      } catch (error) {
        fill(note, problem(error));
      }
    } }, "Refresh now");
    const showHistory = h("button", { type: "button", class: "small-button", "data-action": "history", onclick: async () => {
      fill(history, h("p", { class: "muted" }, "Loading…"));
      try {
        const runs = await get(`/buckets/${encodeURIComponent(b.name)}/refreshes`);
        fill(history, h("h3", null, `Refreshes of ${b.name}`), refreshRows(runs.refreshes));
      } catch (error) {
        fill(history, problem(error));
      }
    } }, "History");
    return h("tr", { "data-bucket": b.name },
      h("td", null, h("strong", null, b.name)),
      h("td", null, b.roles.join(", ")),
      h("td", { "data-field": "lag" }, lag),
      h("td", null, String(f.pending)),
      h("td", null, String(f.failed)),
      h("td", { class: "small" }, schedule(d.schedule)),
      h("td", { class: "small" }, refreshSummary(d.last_refresh)),
      h("td", null, refresh, showHistory, note));
  });
  fill(body, table(["Bucket", "Roles", "Index lag", "Pending", "Failed", "Schedule", "Last refresh", ""], rows, { id: "buckets-table" }), history);
}

function uploadForm(body, buckets, onChange) {
  if (buckets === null) {
    fill(body, h("p", { class: "muted" }, "Uploading needs the admin role."));
    return;
  }
  if (!buckets.length) {
    fill(body, h("p", { class: "muted" }, "Create a bucket first."));
    return;
  }
  const bucket = h("select", { id: "upload-bucket" }, buckets.map((b) => h("option", { value: b.name }, b.name)));
  const file = h("input", { id: "upload-file", type: "file", required: true });
  const roles = h("input", { id: "upload-roles", type: "text", placeholder: "bucket's roles" });
  const title = h("input", { id: "upload-title", type: "text", placeholder: "from the document" });
  const bar = h("progress", { id: "upload-progress", max: "100", value: "0" });
  const status = h("p", { id: "upload-status", role: "status", class: "muted" });
  const submit = h("button", { type: "submit", id: "upload-button" }, "Upload");
  const form = h("form", { id: "upload-form", class: "grid-form" },
    h("label", { for: "upload-bucket" }, "Bucket"), bucket,
    h("label", { for: "upload-file" }, "File"), file,
    h("label", { for: "upload-roles" }, "Roles (optional)"), roles,
    h("label", { for: "upload-title" }, "Title (optional)"), title,
    h("span"), submit,
    h("span"), bar,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const data = new FormData();
    data.append("file", file.files[0]);
    if (roles.value.trim()) data.append("roles", roles.value.trim());
    if (title.value.trim()) data.append("title", title.value.trim());
    submit.disabled = true;
    bar.value = 0;
    status.className = "muted";
    status.textContent = "Uploading…";
    try {
      const accepted = await upload(`/buckets/${encodeURIComponent(bucket.value)}/documents`, data, (loaded, total) => {
        bar.value = Math.round((loaded / total) * 100);
        status.textContent = `Uploading… ${bar.value}%`;
      });
      bar.value = 100;
      status.textContent = `Uploaded; ${accepted.status}.`;
      status.dataset.documentId = accepted.document_id;
      await follow(accepted.document_id, status);
      onChange();
    } catch (error) {
      fill(status, problem(error));
    } finally {
      submit.disabled = false;
    }
  });
  fill(body, form, status);
}

/** Poll a document until it is indexed or failed, saying where it is. */
async function follow(id, status) {
  for (let i = 0; i < POLL_LIMIT; i += 1) {
    const doc = await get(`/documents/${encodeURIComponent(id)}`);
    status.dataset.status = doc.status;
    if (doc.status === "indexed") {
      status.className = "ok";
      status.textContent = `Indexed: ${doc.title || doc.source}, version ${doc.version}, ${doc.chunks} chunks.`;
      return;
    }
    if (doc.status === "failed") {
      status.className = "problem";
      status.textContent = `Failed (${doc.error_code}): ${doc.error}`;
      return;
    }
    status.textContent = `Uploaded; ${doc.status}…`;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  status.textContent = "Still not done; reload the list later.";
}

function documentRow(d, reload) {
  const note = h("span", { class: "small", role: "status" });
  const retry = d.status === "failed"
    ? h("button", { type: "button", class: "small-button", "data-action": "retry", onclick: async () => {
      note.textContent = " queuing…";
      try {
        const out = await post(`/documents/${encodeURIComponent(d.document_id)}/retry`);
        note.textContent = ` queued again (${out.status})`;
        note.dataset.retried = "true";
      } catch (error) {
        fill(note, problem(error));
      }
    } }, "Retry")
    : null;
  const reason = d.status === "failed"
    ? h("span", { class: "failure" }, h("code", { "data-field": "error-code" }, d.error_code || "failed"), " ", h("span", { "data-field": "error" }, d.error || ""))
    : "";
  return h("tr", { "data-document": d.document_id, "data-status": d.status },
    h("td", null, d.title || "(untitled)"),
    h("td", { class: "small" }, d.source),
    h("td", null, d.bucket),
    h("td", null, badge(d.status, STATUS_TONE[d.status])),
    h("td", null, String(d.version)),
    h("td", null, d.chunks == null ? "—" : String(d.chunks)),
    h("td", { class: "small" }, when(d.updated_at)),
    h("td", null, reason),
    h("td", null, retry, note));
}

function documentList(body) {
  const status = h("select", { id: "doc-status" },
    [["", "any status"], ["failed", "failed"], ["indexed", "indexed"], ["queued", "queued"], ["processing", "processing"]]
      .map(([v, t]) => h("option", { value: v }, t)));
  const bucket = h("input", { id: "doc-bucket", type: "text", placeholder: "bucket" });
  const list = h("div", { id: "documents-list" }, h("p", { class: "muted" }, "Loading…"));
  const load = async () => {
    const query = new URLSearchParams({ limit: "200" });
    if (status.value) query.set("status", status.value);
    if (bucket.value.trim()) query.set("bucket", bucket.value.trim());
    try {
      const { documents } = await get(`/documents?${query}`);
      fill(list, documents.length
        ? table(["Title", "Source", "Bucket", "Status", "Version", "Chunks", "Updated", "Problem", ""], documents.map((d) => documentRow(d, load)), { id: "documents-table" })
        : h("p", { class: "muted" }, "No document matches."));
    } catch (error) {
      fill(list, problem(error));
    }
  };
  status.addEventListener("change", load);
  const controls = h("div", { class: "controls" },
    h("label", { for: "doc-status" }, "Status "), status,
    h("label", { for: "doc-bucket" }, " Bucket "), bucket,
    h("button", { type: "button", id: "doc-reload", onclick: load }, "Reload"));
  fill(body, controls, list);
  load();
  return load;
}

export function render(root) {
  root.append(h("h1", null, "Documents"));
  const buckets = section("Buckets", "buckets");
  const uploads = section("Upload", "upload");
  const docs = section("Documents", "documents");
  root.append(buckets.node, uploads.node, docs.node);
  const reloadDocuments = documentList(docs.body);
  loadBuckets(buckets.body, (names) => uploadForm(uploads.body, names, () => {
    reloadDocuments();
    loadBuckets(buckets.body, () => {});
  }));
}
