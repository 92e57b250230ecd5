// The console's router: #/page[/argument] picks a page; every page needs a sign-in first.

import { signOut, signedIn } from "./api.js";
import { problemBox, show } from "./dom.js";
import { agentsPage } from "./pages/agents.js";
import { keysPage } from "./pages/keys.js";
import { playgroundPage } from "./pages/playground.js";
import { runPage, runsPage } from "./pages/runs.js";
import { sessionsPage } from "./pages/sessions.js";
import { signInPage } from "./pages/signin.js";
import { usagePage } from "./pages/usage.js";

const PAGES = {
  agents: agentsPage,
  playground: playgroundPage,
  runs: (main, id) => (id ? runPage(main, id) : runsPage(main)),
  sessions: sessionsPage,
  usage: usagePage,
  keys: keysPage,
};

async function route() {
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const argument = rest.length ? decodeURIComponent(rest.join("/")) : "";
  nav.hidden = !signedIn();
  for (const link of nav.querySelectorAll("a")) {
    link.classList.toggle("current", link.getAttribute("href") === `#/${name}`);
  }
  if (!signedIn()) {
    signInPage(main, () => {
      if (location.hash === "#/agents") route();
      else location.hash = "#/agents";
    });
    return;
  }
  const page = PAGES[name];
  if (!page) {
    location.hash = "#/agents";
    return;
  }
  try {
    await page(main, argument);
  } catch (error) {
    show(main, problemBox(error));
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  route();
});
window.addEventListener("hashchange", route);
route();
