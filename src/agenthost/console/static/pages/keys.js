// The tenant's own API keys (needs the keys:admin scope): create (the key is shown once), revoke.

import { get, post } from "../api.js";
import { h, problemBox, show, table, when } from "../dom.js";

const SCOPES = ["runs:read", "runs:write", "keys:admin"];

export async function keysPage(main) {
  const list = h("div", { id: "keys" });
  const created = h("div", { id: "created-key" });
  const status = h("div", { class: "status" });
  const name = h("input", { id: "key-name", required: true, maxlength: 200, value: "console" });
  const scopes = SCOPES.map((scope, i) =>
    h("label", {}, h("input", { type: "checkbox", value: scope, checked: i < 2, class: "scope" }), ` ${scope}`),
  );

  async function revoke(key) {
    try {
      await post(`/v1/keys/${encodeURIComponent(key.id)}/revoke`);
      show(status, h("p", {}, `Key ${key.prefix}… revoked.`));
      await load();
    } catch (error) {
      show(status, problemBox(error));
    }
  }

  async function load() {
    const { keys } = await get("/v1/keys");
    const rows = keys.map((key) => [
      key.name,
      h("code", {}, `${key.prefix}…`),
      key.scopes.join(", "),
      when(key.created_at),
      when(key.last_used_at),
      key.revoked_at
        ? `revoked ${when(key.revoked_at)}`
        : h("button", { type: "button", class: "revoke", "data-key": key.id, onclick: () => revoke(key) }, "Revoke"),
    ]);
    show(list, table(["Name", "Prefix", "Scopes", "Created", "Last used", ""], rows));
  }

  async function create() {
    const chosen = scopes.map((label) => label.firstChild).filter((box) => box.checked).map((box) => box.value);
    try {
      const key = await post("/v1/keys", { name: name.value, scopes: chosen });
      show(
        created,
        h("p", {}, "The new key — copy it now, it is not shown again:"),
        h("pre", { id: "new-key", class: "output" }, key.key),
      );
      show(status);
      await load();
    } catch (error) {
      show(status, problemBox(error));
    }
  }

  const form = h(
    "form",
    {
      id: "create-key",
      onsubmit: (event) => {
        event.preventDefault();
        create();
      },
    },
    h("label", { for: "key-name" }, "Name"),
    name,
    h("fieldset", {}, h("legend", {}, "Scopes"), scopes),
    h("button", { type: "submit" }, "Create key"),
  );
  show(main, h("h1", {}, "API keys"), form, created, status, list);
  try {
    await load();
  } catch (error) {
    show(list, problemBox(error));
  }
}
