// What every console script shares: Debian's Chromium headless, a page that records what the
// test asserts on (dialogs, page errors, CSP violations), sign-in, screenshots, the report.
//
// Environment: BASE_URL (the server), API_KEY (optional), SHOTS (the screenshot folder).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;
const TIMEOUT_MS = 20_000;

export async function open() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const seen = { dialogs: [], pageErrors: [], csp: [], requests: [] };
  page.on("dialog", (dialog) => {
    seen.dialogs.push(dialog.message());
    dialog.dismiss();
  });
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) seen.csp.push(message.text());
  });
  page.on("request", (request) => seen.requests.push(request.url()));
  return { browser, page, seen };
}

export async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Sign in with API_KEY (or, without one, keyless: dev mode) and wait for the agents page. */
export async function signIn(page, key = process.env.API_KEY) {
  await page.goto(`${BASE_URL}/console`);
  await page.waitForSelector("#sign-in");
  if (key) {
    await page.fill("#api-key", key);
    await page.click("#sign-in-key");
  } else {
    await page.click("#sign-in-dev");
  }
  await page.waitForSelector("#agents tbody tr");
}

export async function go(page, hash, selector) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.waitForSelector(selector);
}

/** Print the script's findings as the last line of stdout (the pytest test parses it). */
export function report(findings) {
  process.stdout.write(`${JSON.stringify(findings)}\n`);
}

/** Run `body(page, seen)`, always closing the browser; a failure exits 1 with its message. */
export async function main(body) {
  const { browser, page, seen } = await open();
  try {
    const findings = await body(page, seen);
    const { requests, ...watched } = seen;
    report({ ...findings, seen: watched, requests: requests.length });
  } catch (error) {
    await shot(page, "failure").catch(() => {});
    process.stderr.write(`${error.stack || error}\n`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
