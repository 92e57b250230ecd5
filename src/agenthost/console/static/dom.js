// Building the page: every text goes in through textContent, never as HTML.

const SVG = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element: h("p", {class: "x"}, "text", otherNode). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element (for charts). */
export function s(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG, tag), attrs, children);
}

/** Replace what `node` holds. */
export function show(node, ...children) {
  node.replaceChildren();
  fill(node, {}, children);
  return node;
}

/** A problem document (or any error) as the page shows it: its title, then its detail. */
export function problemBox(error) {
  const title = error.title || "Error";
  const detail = error.detail || error.message || "";
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("strong", { class: "problem-title" }, title),
    detail ? h("span", { class: "problem-detail" }, detail) : null,
    error.code ? h("code", {}, error.code) : null,
  );
}

/** A table from rows of cells (nodes or text). */
export function table(headings, rows, attrs) {
  return h(
    "table",
    attrs || {},
    h("thead", {}, h("tr", {}, headings.map((title) => h("th", {}, title)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
}

/** A definition list from [term, value] pairs. */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]));
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** Any output (text or structured JSON) as text. */
export function asText(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}
