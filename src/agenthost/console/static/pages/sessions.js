// A session's conversation, oldest first; it can be deleted.

import { call, get } from "../api.js";
import { asText, h, problemBox, show, when } from "../dom.js";

function itemText(item) {
  const content = item.content ?? item.output ?? item.arguments;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => part.text ?? part.refusal ?? asText(part)).join("");
  return asText(item);
}

function itemLabel(item) {
  if (item.role) return item.role;
  if (item.type === "function_call") return `tool call ${item.name ?? ""}`;
  if (item.type === "function_call_output") return "tool output";
  return item.type ?? "item";
}

export async function sessionsPage(main, chosen) {
  const id = h("input", { id: "session-lookup", required: true, value: chosen || "", pattern: "[A-Za-z0-9_.:\\-]+" });
  const history = h("div", { id: "history" });

  async function load() {
    const session = await get(`/v1/sessions/${encodeURIComponent(id.value.trim())}`);
    const items = session.items.map((item) =>
      h("li", { class: "item" }, h("span", { class: "event-type" }, itemLabel(item)), " ", h("span", { class: "text" }, itemText(item))),
    );
    const remove = async () => {
      await call("DELETE", `/v1/sessions/${encodeURIComponent(session.session_id)}`);
      show(history, h("p", {}, `Session ${session.session_id} deleted.`));
    };
    show(
      history,
      h("p", {}, `Started ${when(session.created_at)}, last used ${when(session.updated_at)}, ${items.length} item(s).`),
      h("ol", { class: "events" }, items),
      h("button", { type: "button", id: "delete-session", onclick: () => remove().catch((e) => history.append(problemBox(e))) }, "Delete session"),
    );
  }

  const form = h(
    "form",
    {
      onsubmit: (event) => {
        event.preventDefault();
        load().catch((error) => show(history, problemBox(error)));
      },
    },
    h("label", { for: "session-lookup" }, "Session id"),
    id,
    h("button", { type: "submit" }, "Show"),
  );
  show(main, h("h1", {}, "Sessions"), form, history);
  if (chosen) await load().catch((error) => show(history, problemBox(error)));
}
