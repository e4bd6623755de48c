// Sign in: paste an API key, or a bearer token (JWT) from the identity provider when
// the server accepts OIDC tokens. The key is checked with GET /slo (any valid key may
// read it) before the console uses it; it is kept in sessionStorage for this tab only.

import { ApiError, get, session } from "./api.js";
import { h } from "./dom.js";

let pending = "";

/** A message to show on the next sign-in page (e.g. after a 401). */
export function remember(message) {
  pending = message;
}

/** How the header names the current credential, without showing it. */
export function describe(key) {
  if (/^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(key)) return "signed in with a token";
  return `signed in with key …${key.slice(-4)}`;
}

export function render(root) {
  const status = h("p", { id: "login-status", class: pending ? "problem" : "muted", role: "status" }, pending || "");
  pending = "";
  const input = h("input", {
    id: "key",
    name: "key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    placeholder: "rk_… or a configured key, or an OIDC token (eyJ…)",
  });
  const form = h(
    "form",
    { class: "card narrow", id: "login-form" },
    h("h1", null, "Sign in"),
    h("label", { for: "key" }, "API key or bearer token"),
    input,
    h("button", { type: "submit", id: "sign-in" }, "Sign in"),
    status,
    h(
      "p",
      { class: "muted small" },
      "The key stays in this browser tab (sessionStorage) and is sent only to this server, as ",
      h("code", null, "Authorization: Bearer"),
      ". With OIDC configured on the server, paste an access token from your identity provider: it works the same way.",
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    status.className = "muted";
    status.textContent = "Checking the key…";
    session.set(key);
    try {
      await get("/slo");
    } catch (error) {
      session.clear();
      status.className = "problem";
      status.textContent =
        error instanceof ApiError && error.status === 401
          ? "That key was not accepted."
          : `The key could not be checked: ${error.message}`;
      return;
    }
    location.hash = "#/ask";
  });
  root.append(form);
  input.focus();
}
