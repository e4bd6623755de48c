// Building the page from server data without ever parsing it as HTML.
//
// Every string goes in as a text node or an attribute value (setAttribute does not
// parse markup), so a title or an answer holding "<img onerror=...>" shows as text.
// Nothing in the console uses innerHTML.

/** An element with attributes, listeners (onclick: fn) and children (nodes or text). */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "value") {
      node.value = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Append children: nodes as they are, anything else as text. */
export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A table: headers, and rows of cells (nodes or text). */
export function table(headers, rows, props) {
  return h(
    "table",
    props,
    h("thead", null, h("tr", null, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", null, rows.map((cells) => (cells instanceof Node ? cells : h("tr", null, cells.map((c) => h("td", null, c)))))),
  );
}

/** A section with a heading and a body that pages fill in later. */
export function section(title, id) {
  const body = h("div", { class: "section-body" }, h("p", { class: "muted" }, "Loading…"));
  const node = h("section", { class: "card", id }, h("h2", null, title), body);
  return { node, body };
}

/** A small coloured label: ok, warn, bad or plain. */
export function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}`.trim() }, text);
}

export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function seconds(value) {
  if (value === null || value === undefined) return "—";
  if (value === 0) return "0 s";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${Number(value).toFixed(1)} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

export function usd(value) {
  if (value === null || value === undefined) return "—";
  return `$${Number(value).toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 2)}`;
}

export function percent(value) {
  if (value === null || value === undefined) return "—";
  return `${Math.round(Number(value) * 100)}%`;
}
