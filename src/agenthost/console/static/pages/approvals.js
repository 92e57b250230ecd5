// A run's tool approvals: each call with its decision and, while the run awaits approval,
// Approve / Reject buttons for the pending ones. A decision is sent with "background": true
// (the browser holds no long request); the page then follows the record until the run has
// left queued/running, and shows it again.

import { get, post } from "../api.js";
import { h, problemBox, show, table, when } from "../dom.js";

const POLL_MS = 300;
const UNSETTLED = new Set(["queued", "running"]);

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The calls a run stopped at (an `approval_required` event's), as a table. */
export function pendingTable(calls, attrs) {
  return table(
    ["Call", "Agent", "Tool", "Arguments"],
    calls.map((call) => [h("code", {}, call.call_id), call.agent, call.tool, h("code", {}, call.arguments)]),
    attrs,
  );
}

/** Whether the run left queued/running while its page was shown (false once the user left). */
async function settled(path, hash) {
  while (location.hash === hash) {
    if (!UNSETTLED.has((await get(path)).status)) return true;
    await pause(POLL_MS);
  }
  return false;
}

function decisionForm(run, call, refresh, box) {
  const path = `/v1/runs/${encodeURIComponent(run.run_id)}`;
  const reason = h("input", { class: "reason", placeholder: "optional reason", maxlength: 2000 });
  const buttons = [];
  async function decide(approve) {
    for (const button of buttons) button.disabled = true;
    const decision = { call_id: call.call_id, approve };
    if (reason.value.trim()) decision.message = reason.value.trim();
    try {
      await post(`${path}/approvals`, { decisions: [decision], background: true });
      if (await settled(path, location.hash)) await refresh();
    } catch (error) {
      show(box, problemBox(error));
      for (const button of buttons) button.disabled = false;
    }
  }
  buttons.push(
    h("button", { type: "button", class: "approve", onclick: () => decide(true) }, "Approve"),
    h("button", { type: "button", class: "reject", onclick: () => decide(false) }, "Reject"),
  );
  return h("span", { class: "decision" }, reason, buttons);
}

/** The "Approvals" part of a run's page (nothing for a run that never stopped for one). */
export function approvalsSection(run, refresh) {
  if (!run.approvals.length) return null;
  const box = h("div", { id: "approval-problem" });
  const open = run.status === "awaiting_approval";
  const rows = run.approvals.map((call) => [
    call.tool,
    call.agent,
    h("code", {}, call.arguments),
    h("span", { class: `approval-status ${call.status}` }, call.status),
    call.decided_by ? `${call.decided_by}, ${when(call.decided_at)}` : "—",
    open && call.status === "pending" ? decisionForm(run, call, refresh, box) : call.message ?? "",
  ]);
  return [
    h("h2", {}, "Approvals"),
    open && run.approval_expires_at ? h("p", { class: "note" }, `Decide before ${when(run.approval_expires_at)}, or the run expires.`) : null,
    box,
    table(["Tool", "Agent", "Arguments", "Status", "Decided by", "Message"], rows, { id: "approvals" }),
  ];
}
