// Run an agent, streamed: text deltas, tool calls, handoffs, then the final output and usage
// (or, when the run stops for approval, the pending calls and a link to decide them).

import { get, streamRun } from "../api.js";
import { asText, h, problemBox, show } from "../dom.js";
import { pendingTable } from "./approvals.js";

function eventLine(type, data) {
  switch (type) {
    case "run_started":
      return ["run started", h("a", { href: `#/runs/${encodeURIComponent(data.run_id)}`, class: "run-link" }, data.run_id)];
    case "tool_called":
      return ["tool call", `${data.agent} → ${data.tool}(${data.arguments ?? ""})`];
    case "tool_output":
      return ["tool output", data.output];
    case "handoff":
      return ["handoff", `${data.from_agent} → ${data.to_agent}`];
    case "agent_updated":
      return ["agent", data.agent];
    default:
      return null;
  }
}

function awaitingBox(data) {
  const page = h("a", { href: `#/runs/${encodeURIComponent(data.run_id)}`, class: "approve-link" }, "the run's page");
  return h(
    "div",
    { id: "awaiting", class: "awaiting" },
    h("p", {}, "The run is waiting for a human's approval of these calls: approve or reject them on ", page, "."),
    pendingTable(data.pending_approvals, { id: "pending" }),
  );
}

function usageText(usage) {
  return `${usage.requests} request(s), ${usage.input_tokens} in + ${usage.output_tokens} out = ${usage.total_tokens} tokens`;
}

export async function playgroundPage(main, chosen) {
  const { agents } = await get("/v1/agents");
  const agent = h("select", { id: "agent" }, agents.map((a) => h("option", { value: a.name, selected: a.name === chosen }, a.name)));
  const input = h("textarea", { id: "input", rows: 4, required: true, placeholder: "Ask the agent…" });
  const session = h("input", { id: "session-id", placeholder: "optional session id", pattern: "[A-Za-z0-9_.:\\-]+" });
  const output = h("pre", { id: "output", class: "output" });
  const events = h("ol", { id: "events", class: "events" });
  const final = h("div", { id: "final" });
  const send = h("button", { type: "submit", id: "send" }, "Run");

  async function run() {
    show(output);
    show(events);
    show(final);
    send.disabled = true;
    const body = { input: input.value };
    if (session.value.trim()) body.session_id = session.value.trim();
    let awaiting = null;
    try {
      await streamRun(agent.value, body, (type, data) => {
        if (type === "text_delta") output.append(data.delta);
        else if (type === "approval_required") awaiting = awaitingBox(data);
        else if (type === "final") {
          if (data.status !== "awaiting_approval") show(output, asText(data.output));
          show(final, awaiting, h("p", { id: "usage" }, usageText(data.usage), ` · ${data.duration_ms} ms · last agent ${data.last_agent}`));
        } else if (type === "error") show(final, problemBox(data));
        else {
          const line = eventLine(type, data);
          if (line) events.append(h("li", { class: `event ${type}` }, h("span", { class: "event-type" }, line[0]), " ", line[1]));
        }
      });
    } catch (error) {
      show(final, problemBox(error));
    } finally {
      send.disabled = false;
    }
  }

  show(
    main,
    h("h1", {}, "Playground"),
    h(
      "form",
      {
        id: "playground",
        onsubmit: (event) => {
          event.preventDefault();
          run();
        },
      },
      h("label", { for: "agent" }, "Agent"),
      agent,
      h("label", { for: "input" }, "Input"),
      input,
      h("label", { for: "session-id" }, "Session"),
      session,
      send,
    ),
    h("h2", {}, "Answer"),
    output,
    final,
    h("h2", {}, "Events"),
    events,
  );
}
