// The console's shell: hash routing (#/ask, #/documents, #/review/<id>, ...), the
// navigation, and the sign-in gate. Each page is a module with render(root, params).

import { session } from "./api.js";
import { fill, h } from "./dom.js";
import * as ask from "./ask.js";
import * as documents from "./documents.js";
import * as login from "./login.js";
import * as releases from "./releases.js";
import * as review from "./review.js";
import * as usage from "./usage.js";

const PAGES = { login, ask, documents, review, usage, releases };
const view = document.getElementById("view");
const logout = document.getElementById("logout");
const who = document.getElementById("who");

function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return { name: name || "ask", params: rest.map(decodeURIComponent) };
}

function show() {
  let { name, params } = route();
  if (!PAGES[name]) name = "ask";
  const signedIn = Boolean(session.key());
  if (!signedIn && name !== "login") {
    location.hash = "#/login";
    return;
  }
  logout.hidden = !signedIn;
  fill(who, signedIn ? login.describe(session.key()) : "");
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  // A fresh container per visit: a late answer for a page left behind lands in a
  // detached node and changes nothing on screen.
  const root = h("div", { class: "page", "data-page": name });
  fill(view, root);
  document.title = `ragline · ${name}`;
  PAGES[name].render(root, params);
}

session.onUnauthorized(() => {
  session.clear();
  login.remember("Your key was not accepted (401). Sign in again.");
  if (!location.hash.startsWith("#/login")) location.hash = "#/login";
});

logout.addEventListener("click", () => {
  session.clear();
  location.hash = "#/login";
});

window.addEventListener("hashchange", show);
show();
