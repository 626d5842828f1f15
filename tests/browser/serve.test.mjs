// `tminus serve` started the way the README says — `cd my-project && tminus serve`, no
// --root, default options but a free port — with the page open in Debian's headless
// Chromium: an edit to a guide shows in the open page by itself (live reload).
//
//   node --test tests/browser/serve.test.mjs
//
// TMINUS_BIN selects the binary (as in site.test.mjs); CHROMIUM_PATH the browser.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findBinary, repo } from "./common.mjs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];


let tmp, project, server, browser, url;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tminus-serve-"));
  project = path.join(tmp, "my-project");
  fs.cpSync(path.join(repo, "content"), path.join(project, "content"), { recursive: true });
  // From inside the project folder, no --root: the way the README starts it.
  server = spawn(findBinary(), ["serve", "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
  url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`serve printed no address: ${out}`)), 60000);
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/serving (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("serve started inside the project folder reloads the open page on an edit", async () => {
  const page = await browser.newPage();
  await page.goto(`${url}latest/training/faq/index.html`);
  const heading = page.locator("main h1").first();
  const before = await heading.textContent();
  const guide = path.join(project, "content", "training", "faq.md");
  const text = fs.readFileSync(guide, "utf8");
  assert.match(text, /^title: /m, "the FAQ has a title in its front matter");
  // A relative path in the project, edited as an editor would: the page reloads by itself.
  fs.writeFileSync(guide, text.replace(/^title: .*$/m, "title: Edited while serving"));
  await page.waitForFunction(() => document.querySelector("main h1")?.textContent.includes("Edited while serving"), null, { timeout: 15000 });
  assert.notEqual(before, await heading.textContent());
  await page.close();
});

test("the war-room board: an event recorded with tminus live shows in the open page", async () => {
  const page = await browser.newPage();
  await page.goto(`${url}latest/cutover/index.html`);
  assert.equal(await page.locator(".night-banner").count(), 0, "no night before the first event");
  // The cutover lead records the start of the first task, from inside the project folder.
  const recorded = spawnSync(findBinary(), ["live", "start", "cab-approval", "--by", "deployment-lead"], { cwd: project, encoding: "utf8" });
  assert.equal(recorded.status, 0, recorded.stderr);
  // The open page reloads by itself and shows the night.
  await page.locator(".night-banner").waitFor({ timeout: 15000 });
  const banner = await page.locator(".night-banner").textContent();
  assert.match(banner, /of \d+/, "progress X of Y");
  // The bridge update is a page of its own.
  await page.goto(`${url}latest/cutover/status/index.html`);
  assert.match(await page.locator("main").textContent(), /cab-approval|Change Advisory Board/);
  await page.close();
});
