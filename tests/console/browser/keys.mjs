// The keys page: create a key (shown once), see it listed, revoke it.

import { go, main, shot, signIn } from "./lib.mjs";

const NAME = "made-in-browser";

await main(async (page) => {
  await signIn(page);
  await go(page, "#/keys", "#keys table");
  await page.fill("#key-name", NAME);
  await page.click("#create-key button[type=submit]");
  await page.waitForSelector("#new-key");
  const key = await page.textContent("#new-key");
  const row = page.locator("#keys tbody tr", { hasText: NAME });
  await row.waitFor();
  const listed = await row.textContent();
  const keysShot = await shot(page, "keys");
  await row.locator("button.revoke").click();
  await page.locator("#keys tbody tr", { hasText: NAME }).filter({ hasText: "revoked" }).waitFor();
  const revoked = await page.locator("#keys tbody tr", { hasText: NAME }).textContent();
  const revokedShot = await shot(page, "keys-revoked");
  return { key, listed, revoked, shots: { keys: keysShot, revoked: revokedShot } };
});
