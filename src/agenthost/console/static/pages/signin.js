// Sign in with an API key, or (on a dev-mode server) without one.

import { get, signIn, signOut } from "../api.js";
import { h, problemBox, show } from "../dom.js";

export function signInPage(main, done) {
  const key = h("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "ahk_…" });
  const status = h("div", { class: "status" });

  async function attempt(value) {
    signIn(value);
    try {
      await get("/v1/agents"); // the key works (or the server takes keyless requests)
    } catch (error) {
      signOut();
      show(status, problemBox(error));
      return;
    }
    done();
  }

  const form = h(
    "form",
    {
      id: "sign-in",
      onsubmit: (event) => {
        event.preventDefault();
        attempt(key.value.trim());
      },
    },
    h("label", { for: "api-key" }, "API key"),
    key,
    h("button", { type: "submit", id: "sign-in-key" }, "Sign in"),
    h("button", { type: "button", id: "sign-in-dev", onclick: () => attempt("") }, "Continue without a key (dev mode)"),
  );
  show(
    main,
    h("h1", {}, "Sign in"),
    h("p", {}, "The key is kept in this tab's session storage only and sent as a Bearer header."),
    form,
    status,
  );
  key.focus();
}
