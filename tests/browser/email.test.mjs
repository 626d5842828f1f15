// SpamAssassin's local rules (Debian's `spamassassin`, `-L`: no network tests) over the
// emails tminus writes: one .eml per message and locale of the example project, plus a
// one-line message (short messages are where a text part that lacks the HTML part's footer
// scores MPART_ALT_DIFF). Every score must be at most 0.5.
//
//   node --test tests/browser/email.test.mjs
//
// TMINUS_BIN selects the binary (as in site.test.mjs); SPAMASSASSIN the command.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findBinary, repo } from "./common.mjs";
import { fileURLToPath } from "node:url";

const MAX_SCORE = 0.5;


const SHORT = `---
id: short-notice
subject: "{{ system }}: read-only tonight"
send: T-2d 09:00
audience: wave
per_wave: true
---
Hi {{ recipient.name | default(value="colleague") }}, {{ system }} is read-only from 18:00 tonight.
`;

let tmp;
const emails = [];

function emlFiles(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...emlFiles(p));
    else if (entry.name.endsWith(".eml")) found.push(p);
  }
  return found;
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tminus-spam-"));
  const project = path.join(tmp, "example");
  fs.cpSync(path.join(repo, "content"), path.join(project, "content"), { recursive: true });
  fs.writeFileSync(path.join(project, "content", "comms", "short-notice.md"), SHORT);
  execFileSync(findBinary(), ["build"], { cwd: project, stdio: ["ignore", "ignore", "pipe"] });
  // One email per message and locale (the others differ only in recipient and wave).
  const seen = new Set();
  for (const file of emlFiles(path.join(project, "output", "latest", "comms"))) {
    const rel = path.relative(path.join(project, "output", "latest", "comms"), file);
    const message = rel.split(path.sep)[0];
    const locale = path.basename(file).split("-")[0];
    if (seen.has(`${message}/${locale}`)) continue;
    seen.add(`${message}/${locale}`);
    emails.push(file);
  }
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("every kind of email scores at most 0.5 with SpamAssassin's local rules", () => {
  assert.ok(emails.length >= 7, `expected the example's messages and the short one, found ${emails.length}`);
  assert.ok(emails.some((e) => e.includes(`${path.sep}short-notice${path.sep}`)), "the short message was checked");
  const command = process.env.SPAMASSASSIN || "spamassassin";
  const problems = [];
  for (const file of emails) {
    const run = spawnSync(command, ["-L", "-t"], { input: fs.readFileSync(file), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    assert.ok(run.error === undefined, `could not run ${command}: ${run.error}`);
    const score = run.stdout.match(/^X-Spam-Status: \w+, score=(-?[\d.]+)/m);
    assert.ok(score, `no X-Spam-Status for ${file}`);
    if (Number(score[1]) > MAX_SCORE) {
      const rules = run.stdout.split("Content analysis details:")[1] || "";
      const hits = rules.split("\n").filter((l) => /^\s*\d+\.\d+ [A-Z_0-9]+/.test(l) && !/^\s*0\.0 /.test(l)).map((l) => l.trim());
      problems.push(`${path.relative(tmp, file)}: ${score[1]} — ${hits.join("; ")}`);
    }
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});
