// The public JSON API, called with the key the user signed in with.
// The key lives in sessionStorage only (gone when the tab closes); it is sent as a Bearer
// header, never put in a URL or a cookie.

const KEY = "agenthost.key";
const SIGNED_IN = "agenthost.signedIn";

export function signIn(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  sessionStorage.setItem(SIGNED_IN, "1");
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(SIGNED_IN);
}

export function signedIn() {
  return sessionStorage.getItem(SIGNED_IN) === "1";
}

/** An error answer of the API: its problem document's fields (RFC 9457). */
export class Problem extends Error {
  constructor(body, status) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.title = body.title || `HTTP ${status}`;
    this.detail = body.detail || "";
    this.code = body.code || "";
    this.status = status;
  }
}

function headers(extra) {
  const key = sessionStorage.getItem(KEY);
  return { Accept: "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}), ...extra };
}

async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { title: `HTTP ${response.status}`, detail: response.statusText };
  }
  return new Problem(body, response.status);
}

/** `method path` with an optional JSON body; the parsed answer, or throws a Problem. */
export async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  if (!response.ok) throw await problemOf(response);
  return response.status === 204 ? null : response.json();
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body ?? {});

/** A query string from the given fields, leaving out empty ones. */
export function query(fields) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Parse server-sent events from a fetch body, calling onEvent(type, data) for each. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(type, JSON.parse(data.join("\n")));
    }
  }
}

/** Start a streamed run and call onEvent for each of its events as they arrive. */
export async function streamRun(agent, body, onEvent, signal) {
  const response = await fetch(`/v1/agents/${encodeURIComponent(agent)}/runs`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ ...body, stream: true }),
    credentials: "omit",
    signal,
  });
  if (!response.ok) throw await problemOf(response);
  await readEvents(response.body, onEvent);
}
