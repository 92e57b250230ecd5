// The console end to end: a refused key's problem shown, sign in, agents, a streamed weather run in the playground, its run
// page with the tool call, runs, a prompt with HTML in it shown as text (in the playground and
// in its session), a refund that stops for approval (the playground's pending calls, the runs
// filtered by awaiting_approval, approved on its run page), usage charts, then keyless sign-in
// (dev mode). Screenshots of each page.

import { BASE_URL, go, main, shot, signIn } from "./lib.mjs";

const XSS = "<img src=x onerror=alert(1)>";
const REFUND = 'Refund order A0 [[tool:refund {"order_id": "A0", "amount": 500}]]';
const REASON = "checked by the browser";
const cells = (page, selector) =>
  page.$$eval(selector, (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

/** A refund over the limit: it stops for approval, then is approved on its run page. */
async function approve(page, shots) {
  await go(page, "#/playground/refunds", "#playground");
  const stopped = await play(page, REFUND);
  const pending = await cells(page, "#pending tbody tr");
  const link = await page.getAttribute(".approve-link", "href");
  shots.awaiting = await shot(page, "playground-awaiting");

  await go(page, "#/runs", "#runs table");
  const statuses = await page.$$eval("#filter-status option", (options) => options.map((o) => o.value));
  await page.selectOption("#filter-status", "awaiting_approval");
  await page.click("form.filters button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 1);
  const awaitingRuns = await page.$$eval("#runs tbody tr", (rows) => rows.map((r) => r.cells[0].textContent));

  await page.click("#runs tbody a");
  await page.waitForSelector("#approvals button.approve");
  const before = await cells(page, "#approvals tbody tr");
  shots.approval = await shot(page, "run-approval");
  await page.fill("#approvals input.reason", REASON);
  await page.click("#approvals button.approve");
  await page.waitForSelector("#approvals .approval-status.approved");
  const after = await cells(page, "#approvals tbody tr");
  const decidedFacts = await page.textContent(".facts");
  const output = await page.textContent("#run-output");
  shots.approved = await shot(page, "run-approved");
  return { stopped, pending, link, statuses, awaitingRuns, before, after, decidedFacts, output };
}

/** Count the text deltas appended to #output before the final event replaced them. */
async function watchDeltas(page) {
  await page.evaluate(() => {
    window.__deltas = 0;
    const output = document.getElementById("output");
    new MutationObserver((records) => {
      for (const record of records) {
        if (!document.getElementById("usage") && [...record.addedNodes].some((n) => n.nodeType === Node.TEXT_NODE)) {
          window.__deltas += 1;
        }
      }
    }).observe(output, { childList: true });
  });
}

async function play(page, input, session) {
  await page.fill("#input", input);
  await page.fill("#session-id", session || "");
  await watchDeltas(page);
  await page.click("#send");
  await page.waitForSelector("#usage");
  return {
    output: await page.textContent("#output"),
    usage: await page.textContent("#usage"),
    events: await page.$$eval("#events li", (items) => items.map((li) => li.textContent)),
    runId: await page.textContent(".run-link"),
    deltas: await page.evaluate(() => window.__deltas),
  };
}

await main(async (page, seen) => {
  const shots = {};
  await page.goto(`${BASE_URL}/console`);
  await page.waitForSelector("#sign-in");
  await page.fill("#api-key", "ahk_not_a_key");
  await page.click("#sign-in-key");
  await page.waitForSelector(".problem");
  const refusal = await page.textContent(".problem");
  shots.signin = await shot(page, "signin");

  await signIn(page);
  const agents = await cells(page, "#agents tbody tr");
  shots.agents = await shot(page, "agents");

  await go(page, "#/playground/weather", "#playground");
  const weather = await play(page, "What is the weather in Paris?");
  shots.playground = await shot(page, "playground");

  await page.click(".run-link");
  await page.waitForSelector("#timeline");
  const timeline = await page.$$eval("#timeline li", (items) => items.map((li) => li.textContent));
  const runFacts = await page.textContent(".facts");
  shots.run = await shot(page, "run");

  await go(page, "#/playground/weather", "#playground");
  const xss = await play(page, `Say ${XSS} please`, "browser-xss");
  const imagesAfterRun = await page.$$eval("img", (found) => found.length);
  shots.xss = await shot(page, "playground-xss");

  await go(page, "#/sessions/browser-xss", "#history li");
  const history = await page.$$eval("#history li", (items) => items.map((li) => li.textContent));
  const imagesInSession = await page.$$eval("img", (found) => found.length);
  shots.sessions = await shot(page, "sessions");

  await go(page, "#/runs", "#runs table");
  await page.selectOption("#filter-mode", "stream");
  await page.click("form.filters button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length >= 2);
  const streamRuns = await page.$$eval("#runs tbody tr", (rows) => rows.map((r) => r.cells[3].textContent));
  shots.runs = await shot(page, "runs");
  const refund = await approve(page, shots);

  await go(page, "#/usage", "#runs-chart");
  const chart = await page.evaluate(() => {
    const sum = (id) => [...document.querySelectorAll(`#${id} rect.bar`)].reduce((t, r) => t + Number(r.dataset.value), 0);
    return {
      since: document.getElementById("usage-since").value,
      until: document.getElementById("usage-until").value,
      totalRuns: Number(document.getElementById("total-runs").textContent),
      totalTokens: Number(document.getElementById("total-tokens").textContent),
      runBars: sum("runs-chart"),
      tokenBars: sum("tokens-chart"),
      bars: document.querySelectorAll("#runs-chart rect.bar").length,
    };
  });
  shots.usage = await shot(page, "usage");

  await page.click("#sign-out");
  await page.waitForSelector("#sign-in");
  const keyAfterSignOut = await page.evaluate(() => sessionStorage.getItem("agenthost.key"));
  await signIn(page, "");
  const devAgents = await page.$$eval("#agents tbody tr", (rows) => rows.length);

  const cookies = await page.context().cookies();
  const keyInUrl = seen.requests.some((url) => process.env.API_KEY && url.includes(process.env.API_KEY));
  return {
    refusal, agents, weather, timeline, runFacts, xss, imagesAfterRun, history, imagesInSession, streamRuns,
    chart, refund, keyAfterSignOut, devAgents, cookies: cookies.length, keyInUrl, shots,
  };
});
