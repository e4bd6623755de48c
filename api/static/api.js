// Calls to ragline's JSON API with the key of this browser tab.
//
// The key (or an OIDC token) lives in sessionStorage: it goes when the tab closes and
// is never sent anywhere but this origin, as "Authorization: Bearer ...". Errors come
// back as ApiError with the API's {"error": {"code", "message"}}; problem() turns one
// into a short message for the page (a 403 says the key lacks the role, no dump).

import { h } from "./dom.js";

const STORAGE_KEY = "ragline.key";
const listeners = { unauthorized: () => {} };

export const session = {
  key: () => sessionStorage.getItem(STORAGE_KEY),
  set: (key) => sessionStorage.setItem(STORAGE_KEY, key),
  clear: () => sessionStorage.removeItem(STORAGE_KEY),
  /** The app is told when the API refuses the key (401), to send the user to sign in. */
  onUnauthorized: (fn) => {
    listeners.unauthorized = fn;
  },
};

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function headers(extra) {
  const out = { Accept: "application/json", ...extra };
  const key = session.key();
  if (key) out.Authorization = `Bearer ${key}`;
  return out;
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function failure(status, body, retryAfter) {
  const err = (body && typeof body === "object" && body.error) || {};
  const error = new ApiError(status, err.code || `http_${status}`, err.message || `HTTP ${status}`, retryAfter);
  if (status === 401) listeners.unauthorized(error);
  return error;
}

/** One JSON call; resolves to the parsed body, rejects with ApiError. */
export async function call(method, path, body) {
  const init = { method, headers: headers(), cache: "no-store", credentials: "omit", redirect: "error" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, "unreachable", "the server could not be reached");
  }
  const parsed = parse(await resp.text());
  if (!resp.ok) throw failure(resp.status, parsed, resp.headers.get("Retry-After"));
  return parsed;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body === undefined ? {} : body);

/** GET a plain-text route (the Prometheus exposition of /metrics). */
export async function getText(path) {
  let resp;
  try {
    resp = await fetch(path, { headers: headers({ Accept: "text/plain" }), cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError(0, "unreachable", "the server could not be reached");
  }
  const text = await resp.text();
  if (!resp.ok) throw failure(resp.status, parse(text), resp.headers.get("Retry-After"));
  return text;
}

/** A multipart upload through XMLHttpRequest, the one browser API that reports upload progress. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      const body = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(failure(xhr.status, body, xhr.getResponseHeader("Retry-After")));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "unreachable", "the upload was interrupted")));
    xhr.send(form);
  });
}

export const ROLE_MESSAGE = "Your key lacks the role for this page.";

/** A short, human message for a failed call; never the raw response. */
export function problem(error, { notFound } = {}) {
  if (!(error instanceof ApiError)) {
    return h("p", { class: "problem", role: "alert" }, "Something went wrong in the console: ", String(error && error.message));
  }
  if (error.status === 403) {
    return h("p", { class: "problem role", role: "alert", "data-status": "403" }, ROLE_MESSAGE, " ", h("span", { class: "muted" }, `(${error.message})`));
  }
  if (error.status === 404 && notFound) {
    return h("p", { class: "problem unavailable", role: "status", "data-status": "404" }, notFound);
  }
  if (error.status === 401) {
    return h("p", { class: "problem", role: "alert", "data-status": "401" }, "Your key was not accepted; sign in again.");
  }
  if (error.status === 503) {
    const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : "";
    return h("p", { class: "problem", role: "alert", "data-status": "503" }, `A service is unavailable: ${error.message}.${wait}`);
  }
  const where = error.status ? `${error.status} ${error.code}` : error.code;
  return h("p", { class: "problem", role: "alert", "data-status": String(error.status) }, `${error.message} (${where})`);
}
