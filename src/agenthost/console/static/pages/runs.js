// Runs of the tenant (filtered by agent, status, mode and time), and one run's page (with its
// approvals: approvals.js).

import { get, query } from "../api.js";
import { asText, facts, h, problemBox, show, table, when } from "../dom.js";
import { approvalsSection } from "./approvals.js";

const STATUSES = ["", "queued", "running", "awaiting_approval", "succeeded", "failed", "cancelled", "expired"];
const MODES = ["", "sync", "stream", "background"];

function choice(id, values, current) {
  return h("select", { id }, values.map((v) => h("option", { value: v, selected: v === current }, v || "any")));
}

const runLink = (id) => h("a", { href: `#/runs/${encodeURIComponent(id)}` }, id);
const isoOrEmpty = (local) => (local ? new Date(local).toISOString() : "");

export async function runsPage(main) {
  const { agents } = await get("/v1/agents");
  const agent = choice("filter-agent", ["", ...agents.map((a) => a.name)], "");
  const status = choice("filter-status", STATUSES, "");
  const mode = choice("filter-mode", MODES, "");
  const since = h("input", { type: "datetime-local", id: "filter-since" });
  const until = h("input", { type: "datetime-local", id: "filter-until" });
  const results = h("div", { id: "runs" });
  let cursor = null;

  async function load(more) {
    const fields = {
      agent: agent.value,
      status: status.value,
      mode: mode.value,
      since: isoOrEmpty(since.value),
      until: isoOrEmpty(until.value),
      cursor: more ? cursor : "",
      limit: "50",
    };
    const page = await get(`/v1/runs${query(fields)}`);
    cursor = page.next_cursor;
    const rows = page.runs.map((run) => [
      runLink(run.run_id),
      run.agent,
      run.status,
      run.mode,
      when(run.created_at),
      run.duration_ms === null ? "—" : `${Math.round(run.duration_ms)} ms`,
      String(run.usage.total_tokens),
    ]);
    const shown = table(["Run", "Agent", "Status", "Mode", "Created", "Duration", "Tokens"], rows, { class: "runs" });
    if (more) results.insertBefore(shown, results.lastChild);
    else show(results, shown, h("button", { type: "button", id: "more", onclick: () => load(true).catch((error) => results.append(problemBox(error))) }, "More"));
    results.lastChild.hidden = !cursor;
  }

  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        load(false).catch((error) => show(results, problemBox(error)));
      },
    },
    h("label", {}, "Agent ", agent),
    h("label", {}, "Status ", status),
    h("label", {}, "Mode ", mode),
    h("label", {}, "Since ", since),
    h("label", {}, "Until ", until),
    h("button", { type: "submit" }, "Filter"),
  );
  show(main, h("h1", {}, "Runs"), form, results);
  await load(false);
}

function stepLine(step) {
  if (step.type === "tool_called") return ["tool call", `${step.agent} → ${step.tool}`, step.call_id ? ` (${step.call_id})` : ""];
  return ["handoff", `${step.from_agent} → ${step.to_agent}`, ""];
}

export async function runPage(main, id) {
  const run = await get(`/v1/runs/${encodeURIComponent(id)}`);
  const usage = run.usage;
  const steps = run.steps.map((step) => {
    const [kind, what, call] = stepLine(step);
    return h("li", { class: `step ${step.type}` }, h("span", { class: "event-type" }, kind), ` +${step.at_ms} ms `, what, call);
  });
  show(
    main,
    h("h1", {}, "Run ", h("code", {}, run.run_id)),
    facts([
      ["Agent", run.agent],
      ["Status", run.status],
      ["Mode", run.mode],
      ["Session", run.session_id ? h("a", { href: `#/sessions/${encodeURIComponent(run.session_id)}` }, run.session_id) : null],
      ["Created", when(run.created_at)],
      ["Finished", when(run.finished_at)],
      ["Duration", run.duration_ms === null ? null : `${run.duration_ms} ms`],
      ["Usage", `${usage.requests} request(s), ${usage.input_tokens} in, ${usage.output_tokens} out, ${usage.total_tokens} total tokens`],
      ["Last agent", run.last_agent],
      ["Cached", run.cached ? "yes" : "no"],
      ["Trace id", run.trace_id ? h("code", {}, run.trace_id) : null],
      ["Request id", run.request_id ? h("code", {}, run.request_id) : null],
      ["Error", run.error ? `${run.error.code}: ${run.error.message ?? ""}` : null],
    ]),
    approvalsSection(run, () => runPage(main, id)),
    h("h2", {}, "Timeline"),
    steps.length ? h("ol", { id: "timeline", class: "events" }, steps) : h("p", { id: "timeline" }, "No tool calls or handoffs."),
    run.input === null ? null : [h("h2", {}, "Input"), h("pre", { class: "output" }, run.input)],
    run.output === null ? null : [h("h2", {}, "Output"), h("pre", { id: "run-output", class: "output" }, asText(run.output))],
  );
}
