// Browser tests: build the example project, serve it on 127.0.0.1 and open it from disk,
// and drive it in Debian's headless Chromium through playwright-core.
//
//   npm ci --prefix tests/browser && node --test tests/browser/
//
// TMINUS_BIN selects the binary (default: the newest of target/{debug,release}/tminus,
// honouring CARGO_TARGET_DIR); CHROMIUM_PATH the browser (default /usr/bin/chromium).
// Screenshots go to target/browser-artifacts/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { findBinary, repo } from "./common.mjs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const artifacts = path.join(repo, "target", "browser-artifacts");
const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let tmp, out, server, base, context;
const consoleErrors = [];
const externalRequests = [];
const failedRequests = []; // e.g. GET /favicon.ico 404 when a page links no icon


const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".ics": "text/calendar; charset=utf-8", ".eml": "message/rfc822", ".svg": "image/svg+xml",
};

function serve(dir) {
  return new Promise((resolve) => {
    const srv = http.createServer((req, res) => {
      const url = new URL(req.url, "http://127.0.0.1");
      let file = path.normalize(path.join(dir, decodeURIComponent(url.pathname)));
      if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
      if (!fs.existsSync(file)) {
        // As nginx's `error_page 404 /404.html;` does: the root 404 page, whatever the depth.
        const notFound = path.join(dir, "404.html");
        res.writeHead(404, { "content-type": TYPES[".html"] });
        res.end(fs.existsSync(notFound) ? fs.readFileSync(notFound) : "not found");
        return;
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
    });
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

async function newPage(viewport = DESKTOP) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  page.on("response", (r) => { if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`); });
  return page;
}

const http_ = (p) => `${base}/v1.2/${p}`;
const file_ = (p) => pathToFileURL(path.join(out, "v1.2", p)).href;

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tminus-browser-"));
  out = path.join(tmp, "output");
  const project = path.join(tmp, "project");
  fs.cpSync(path.join(repo, "content"), path.join(project, "content"), { recursive: true });
  // Four extra pages, as a real project grows them: each joins the top navigation.
  for (const [id, title] of [["contacts", "Contacts"], ["escalation", "Escalation path"], ["glossary", "Glossary"], ["known-issues", "Known issues"]]) {
    fs.writeFileSync(path.join(project, "content", "pages", `${id}.md`), `---\ntitle: ${title}\n---\n${title} of the go-live.\n`);
  }
  // A send ledger (as `comms send` writes it), so the comms pages show delivery status:
  // the pilot's first message sent to three, refused for one, in doubt for the last.
  fs.mkdirSync(path.join(project, ".tminus"));
  const key = (to) => ({ id: "get-ready", wave: "pilot", locale: "en", to });
  const at = "2027-03-01T14:00:05Z";
  const ledger = [
    ...["maria.delgado", "james.obrien", "keisha.watts"].flatMap((u, i) => [
      { event: "claim", at, ...key(`${u}@contoso.example`), message_id: `<${i}.get-ready@contoso.example>`, send_at: at, pid: 1 },
      { event: "sent", at, ...key(`${u}@contoso.example`), message_id: `<${i}.get-ready@contoso.example>`, reply: "250 2.0.0 Ok: queued as 4F1A2", pid: 1 },
    ]),
    { event: "claim", at, ...key("victor.huang@contoso.example"), message_id: "<3.get-ready@contoso.example>", send_at: at, pid: 1 },
    { event: "failed", at, ...key("victor.huang@contoso.example"), message_id: "<3.get-ready@contoso.example>", reply: "permanent error (550): 5.1.1 User unknown", permanent: true, pid: 1 },
    { event: "claim", at, ...key("boston-dispatch@contoso.example"), message_id: "<4.get-ready@contoso.example>", send_at: at, pid: 1 },
  ];
  fs.writeFileSync(path.join(project, ".tminus", "sent.jsonl"), ledger.map((r) => JSON.stringify(r) + "\n").join(""));
  const bin = findBinary();
  // Two versions, so the switcher has somewhere to go: 1.2 (the example), then 1.3.
  // As of the evening of hypercare day 10 (8 April), so the hypercare pages have figures.
  const now = ["--now", "2027-04-08T17:30"];
  execFileSync(bin, ["--root", project, "build", "--out", out, ...now], { stdio: "pipe" });
  const yaml = path.join(project, "content", "project.yaml");
  fs.writeFileSync(yaml, fs.readFileSync(yaml, "utf8").replace(/^version: .*$/m, 'version: "1.3"'));
  execFileSync(bin, ["--root", project, "build", "--out", out, ...now], { stdio: "pipe" });
  server = await serve(out);
  base = `http://127.0.0.1:${server.address().port}`;
  context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: DESKTOP,
  });
  // Nothing may leave the machine: every request must be to the test server or a file.
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "file:" || url.protocol === "data:" || url.hostname === "127.0.0.1") return route.continue();
    externalRequests.push(url.href);
    return route.abort();
  });
});

after(async () => {
  await context?.close();
  server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the dashboard opens, at desktop and phone width, light and dark", async () => {
  const page = await newPage();
  await page.goto(http_("index.html"));
  await assert.doesNotReject(page.locator("h1").first().waitFor());
  assert.match(await page.title(), /Field Service Hub/);
  assert.equal(await page.locator("main#main").count(), 1);
  await shot(page, "dashboard-desktop");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "dashboard-desktop-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(PHONE);
  await shot(page, "dashboard-phone");
  // Nothing is wider than a phone screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone viewport`);
  await page.close();
});

async function searchAndOpen(page, url, term, expect) {
  await page.goto(url);
  await page.keyboard.press("/");
  const input = page.locator("#search-input");
  assert.ok(await input.evaluate((el) => el === document.activeElement), "/ focuses the search box");
  await input.pressSequentially(term, { delay: 30 });
  const first = page.locator("#search-listbox [role=option]").first();
  await first.waitFor();
  // Results follow the typing: wait for those of the whole term (a loaded machine may
  // still show the results of its first letters), then check them.
  await page.waitForFunction(([source, flags]) => {
    const option = document.querySelector("#search-listbox [role=option]");
    return option && new RegExp(source, flags).test(option.textContent);
  }, [expect.source, expect.flags], { timeout: 5000 }).catch(() => {});
  assert.equal(await input.getAttribute("aria-expanded"), "true");
  const text = await first.textContent();
  assert.match(text, expect);
  return first;
}

test("every section of the top navigation is in view at 1280 px, with four extra pages", async () => {
  const page = await newPage(DESKTOP);
  await page.goto(http_("index.html"));
  const links = page.locator("nav.site-nav a");
  assert.ok((await links.count()) >= 12, "the four extra pages are in the navigation");
  for (const link of await links.all()) {
    const box = await link.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= DESKTOP.width, `${await link.textContent()} is out of view`);
  }
  const scrolls = await page.locator("nav.site-nav ul").evaluate((ul) => ul.scrollWidth > ul.clientWidth);
  assert.equal(scrolls, false, "the navigation does not hide items behind a scroll");
  await page.close();
});

test("search over http: results as you type, keyboard to open one", async () => {
  const page = await newPage();
  await searchAndOpen(page, http_("index.html"), "signal", /signal/i);
  await shot(page, "search-desktop");
  await page.keyboard.press("ArrowDown");
  const active = await page.locator("#search-input").getAttribute("aria-activedescendant");
  assert.equal(active, "search-option-0");
  await Promise.all([page.waitForURL(/training\/faq\/index\.html#/), page.keyboard.press("Enter")]);
  const hash = new URL(page.url()).hash.slice(1);
  assert.ok(hash, "the result links to a section");
  assert.equal(await page.locator(`[id="${hash}"]`).count(), 1, `#${hash} exists on the page`);
  await page.close();
});

test("search from disk (file://): type, click a result, full results page", async () => {
  const page = await newPage();
  const first = await searchAndOpen(page, file_("runbooks/index.html"), "backup", /backup/i);
  await Promise.all([page.waitForURL(/^file:.*index\.html/), first.click()]);
  assert.ok(page.url().startsWith("file://"));
  const hash = new URL(page.url()).hash.slice(1);
  if (hash) assert.equal(await page.locator(`[id="${hash}"]`).count(), 1);
  await page.goto(file_("search/index.html") + "?q=dispatch");
  await page.locator("#search-page-results li a").first().waitFor();
  assert.match(await page.locator("#search-page-status").textContent(), /results? for/);
  assert.ok((await page.locator("#search-page-results li").count()) > 3);
  await page.close();
});

test("switch version with the version menu", async () => {
  const page = await newPage();
  await page.goto(http_("training/index.html"));
  const select = page.locator("#version-select");
  const values = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
  const target = values.find((v) => v.includes("v1.3/"));
  assert.ok(target, `v1.3 in ${values}`);
  await select.focus();
  await Promise.all([page.waitForURL(/\/v1\.3\/training\/index\.html$/), select.selectOption(target)]);
  assert.match(await page.locator("#version-select").inputValue(), /v1\.3\//);
  await page.close();
});

test("the footer shows the version's build time, from versions.js", async () => {
  const versions = JSON.parse(fs.readFileSync(path.join(out, "versions.json"), "utf8")).versions;
  const builtAt = versions.find((v) => v.version === "1.2").built_at;
  const page = await newPage();
  await page.goto(file_("training/index.html"));
  const time = page.locator("footer [data-built] time");
  assert.equal(await time.getAttribute("datetime"), builtAt);
  assert.equal(await time.textContent(), `${builtAt.slice(0, 10)} ${builtAt.slice(11, 16)} UTC`);
  assert.ok(await time.isVisible(), "the build time is shown");
  await page.close();
});

test("open a message preview", async () => {
  const page = await newPage();
  await page.goto(http_("comms/index.html"));
  const link = page.locator("main a[href*='comms/']").filter({ hasText: /get ready/i }).first();
  await Promise.all([page.waitForURL(/comms\/get-ready\//), link.click()]);
  const frame = page.frameLocator("iframe.email-frame").first();
  await assert.doesNotReject(frame.locator("body").waitFor());
  assert.match(await frame.locator("body").textContent(), /Field Service Hub/);
  const height = await page.locator("iframe.email-frame").first().evaluate((f) => f.getBoundingClientRect().height);
  assert.ok(height > 200, `preview is ${height}px high`);
  await shot(page, "message-desktop");
  await page.close();
});

test("delivery status: counts on the schedule, failures first on the message page", async () => {
  const page = await newPage();
  await page.goto(http_("comms/index.html"));
  assert.match(await page.locator(".delivery-summary").textContent(), /Delivery status\s+as of/);
  assert.match(await page.locator(".delivery-line").first().textContent(), /3 sent · 1 failed · 1 in doubt/);
  await page.goto(http_("comms/get-ready/pilot/index.html"));
  const attention = page.locator(".delivery-status > .table-wrap table tbody tr");
  assert.deepEqual(await attention.locator(".send-state").allTextContents(), ["Failed", "In doubt"]);
  assert.match(await attention.first().textContent(), /550/);
  const others = page.locator("details.delivery-others table");
  assert.equal(await others.locator("tbody tr").count(), 3);
  assert.match(await others.locator("tbody tr").first().textContent(), /<0\.get-ready@contoso\.example>/);
  await others.locator("th .sort-btn").first().click();
  assert.equal(await others.locator("th").first().getAttribute("aria-sort"), "ascending");
  await shot(page, "message-delivery-status");
  await page.close();
});

test("training: learning paths, sessions upcoming first, add a session to the calendar", async () => {
  const page = await newPage();
  await page.goto(http_("training/index.html"));
  assert.ok((await page.locator(".path").count()) >= 3, "a learning path per role");
  assert.match(await page.locator("#path-all-staff").textContent(), /in total/);
  const rows = page.locator("table.sessions tbody tr");
  const stamps = await rows.locator("time").evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute("datetime"))));
  const pastFlags = await rows.evaluateAll((rs) => rs.map((r) => r.classList.contains("is-past")));
  const firstPast = pastFlags.indexOf(true);
  const upcoming = firstPast < 0 ? stamps : stamps.slice(0, firstPast);
  assert.deepEqual(upcoming, [...upcoming].sort((a, b) => a - b), "upcoming sessions in order");
  await shot(page, "training-desktop");

  const add = page.locator("a.add-to-calendar").first();
  const [download] = await Promise.all([page.waitForEvent("download"), add.click()]);
  assert.match(download.suggestedFilename(), /\.ics$/);
  const ics = fs.readFileSync(await download.path(), "utf8");
  assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
  // In the zone of the session's audience, with its VTIMEZONE.
  const zone = ics.match(/DTSTART;TZID=([A-Za-z_\/]+):\d{8}T\d{6}\r\n/);
  assert.ok(zone, ics);
  assert.ok(ics.includes(`BEGIN:VTIMEZONE\r\nTZID:${zone[1]}\r\n`), ics);
  assert.equal(ics.match(/BEGIN:VEVENT/g).length, 1);

  const [all] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("a[href$='training/sessions.ics']").click(),
  ]);
  const allIcs = fs.readFileSync(await all.path(), "utf8");
  assert.equal(allIcs.match(/BEGIN:VEVENT/g).length, 8);
  await page.setViewportSize(PHONE);
  await shot(page, "training-phone");
  await page.close();
});

test("keyboard: skip link, theme toggle, guide print button", async () => {
  const page = await newPage();
  await page.goto(http_("training/quick-reference/index.html"));
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip-link");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "main");
  const before = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.locator("#theme-toggle").focus();
  await page.keyboard.press("Enter");
  const after = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(before, after, "the toggle switches the theme");
  assert.equal(await page.locator("button[data-print]").count(), 1);
  await shot(page, "quick-reference-desktop-toggled");
  await page.keyboard.press("Enter"); // back to the system's theme
  await page.setViewportSize(PHONE);
  await shot(page, "quick-reference-phone");
  await page.close();
});

const AUDITED = [
  "index.html", "training/index.html", "training/faq/index.html", "training/quick-reference/index.html",
  "runbooks/index.html", "runbooks/deploy/index.html", "checklists/index.html", "checklists/go-live-readiness/index.html",
  "cutover/index.html", "comms/index.html", "comms/get-ready/pilot/index.html", "pages/hypercare/index.html",
  "search/index.html?q=backup", "hypercare/index.html", "hypercare/day-2/index.html", "hypercare/day-11/index.html",
];

test("accessibility audit (axe-core, WCAG 2.1 A/AA): no serious or critical violations, light and dark", async () => {
  const page = await newPage();
  const problems = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const p of AUDITED) {
      await page.goto(http_(p));
      if (p.startsWith("search/")) await page.locator("#search-page-results li").first().waitFor();
      await page.addScriptTag({ content: AXE_SOURCE });
      const result = await page.evaluate(() =>
        window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
      for (const v of result.violations) {
        if (v.impact === "serious" || v.impact === "critical") {
          problems.push(`[${scheme}] ${p}: ${v.id} (${v.impact}) — ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + (n.failureSummary || "").split("\n").slice(1, 2).join("")).join("\n    ")}`);
        }
      }
    }
  }
  // The open search popup is audited too.
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto(http_("index.html"));
  await page.locator("#search-input").pressSequentially("dispatch", { delay: 20 });
  await page.locator("#search-listbox [role=option]").first().waitFor();
  await page.keyboard.press("ArrowDown");
  await page.addScriptTag({ content: AXE_SOURCE });
  const popup = await page.evaluate(() => window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  for (const v of popup.violations) {
    if (v.impact === "serious" || v.impact === "critical") problems.push(`[search popup] ${v.id} (${v.impact}) — ${v.help}`);
  }
  assert.deepEqual(problems, [], problems.join("\n"));
  await page.close();
});

test("hypercare: charts readable without JavaScript, the figures as tables, light, dark and print", async () => {
  const page = await newPage();
  await page.goto(http_("index.html"));
  assert.match(await page.locator("#hypercare-title").locator("..").locator("..").innerText(), /Day 10 of 30/);
  await page.goto(http_("hypercare/index.html"));
  const charts = page.locator("svg.hc-chart[role=img]");
  assert.equal(await charts.count(), 7);
  // Each chart is named by its title and described by its description.
  const name = await page.evaluate(() => {
    const svg = document.querySelector("#metric-uptime svg");
    const ids = svg.getAttribute("aria-labelledby").split(" ");
    return ids.map((id) => document.getElementById(id).textContent);
  });
  assert.match(name[0], /System uptime/);
  assert.match(name[1], /3 missed it \(days 1, 2, 4\)/);
  // Missed days are marked: uptime missed on days 1, 2 and 4.
  assert.equal(await page.locator("#metric-uptime .hc-missed").count(), 3);
  assert.equal(await page.locator("#metric-uptime table tbody tr").count(), 10);
  // The line and the target take the theme's colours, in both themes.
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    const stroke = await page.evaluate(() => getComputedStyle(document.querySelector(".hc-line")).stroke);
    assert.notEqual(stroke, "none");
    await shot(page, `hypercare-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: "dark", media: "print" });
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), "rgb(255, 255, 255)");
  await shot(page, "hypercare-print");
  await page.emulateMedia({ colorScheme: "light", media: "screen" });
  // Without JavaScript the charts are there all the same: they are in the HTML as served.
  const html = await (await fetch(http_("hypercare/index.html"))).text();
  assert.equal(html.split('<svg class="hc-chart"').length - 1, 7);
  await page.goto(http_("hypercare/day-2/index.html"));
  assert.match(await page.locator("h1").innerText(), /Day 2 of 30/);
  assert.match(await page.locator("main").innerText(), /Tomorrow's priorities/);
  await shot(page, "hypercare-day-2");
  await page.close();
});

test("the root 404 page loads nothing from the missing address and its links work below the top level", async () => {
  const page = await newPage();
  const missing = `${base}/v1.2/runbooks/nope/deeper`;
  const response = await page.goto(missing);
  assert.equal(response.status(), 404);
  const home = await page.locator("main a", { hasText: "Go to the dashboard" }).evaluate((a) => a.href);
  assert.equal(home, `${base}/latest/index.html`);
  const v12 = await page.locator("main a", { hasText: "Version 1.2" }).evaluate((a) => a.href);
  assert.equal(v12, `${base}/v1.2/index.html`);
  const styled = await page.evaluate(() => getComputedStyle(document.querySelector("main")).maxWidth);
  assert.equal(styled, "640px", "the page's own styles apply");
  await shot(page, "404-deep");
  await page.close();
  // The page's own 404 was the point of this test.
  // The page's own 404 (and Chromium's console line about it) was the point; nothing else
  // it loads may fail.
  failedRequests.splice(0, failedRequests.length, ...failedRequests.filter((r) => r !== `404 ${missing}`));
  const own = `${missing}: Failed to load resource: the server responded with a status of 404 (Not Found)`;
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => e !== own));
});

test("no console errors, no failed request (a favicon among them) and no request to any other host", () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(externalRequests, []);
  assert.deepEqual(failedRequests, []);
});
