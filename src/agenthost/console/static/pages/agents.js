// The agents the key's tenant may run, with their policy.

import { get } from "../api.js";
import { h, show, table } from "../dom.js";

const list = (names) => (names.length ? names.join(", ") : "—");

export async function agentsPage(main) {
  const { agents } = await get("/v1/agents");
  const rows = agents.map((agent) => [
    h("a", { href: `#/playground/${encodeURIComponent(agent.name)}` }, agent.name),
    agent.description || "—",
    h("code", {}, agent.version),
    `${agent.timeout_s} s, ${agent.max_turns} turns` +
      (agent.tokens_per_run === null ? "" : `, ${agent.tokens_per_run} tokens`) +
      (agent.cacheable ? ", cacheable" : ""),
    list(agent.tools),
    list(agent.handoffs),
    agent.needs_approval ? "yes" : "no",
  ]);
  show(
    main,
    h("h1", {}, "Agents"),
    table(
      ["Name", "Description", "Version", "Policy", "Tools", "Handoffs", "Needs approval"],
      rows,
      { id: "agents" },
    ),
  );
}
