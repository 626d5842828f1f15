// The Nu Html Checker (vnu-jar from npm, run with a Java runtime) over every page kind that
// tminus writes: the example project built twice (so "what changed" has content), the root
// index and 404 page, the minimal fixture and a project made by `tminus new`. Zero errors.
//
//   npm ci --prefix tests/browser && node --test tests/browser/html.test.mjs
//
// TMINUS_BIN selects the binary (as in site.test.mjs); JAVA the Java runtime (default: `java`
// on the PATH; Debian's default-jre-headless).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findBinary, repo } from "./common.mjs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const VNU_JAR = require("vnu-jar");


let tmp;
const pages = [];

function htmlFiles(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue; // .prev-* generations, staging folders
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...htmlFiles(p));
    else if (entry.name.endsWith(".html")) found.push(p);
  }
  return found;
}

function tminus(cwd, args) {
  execFileSync(findBinary(), args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tminus-vnu-"));
  // The example, as a user builds it from inside the project folder: two versions.
  const example = path.join(tmp, "example");
  fs.cpSync(path.join(repo, "content"), path.join(example, "content"), { recursive: true });
  tminus(example, ["build"]);
  const projectYaml = path.join(example, "content", "project.yaml");
  fs.writeFileSync(projectYaml, fs.readFileSync(projectYaml, "utf8").replace(/^version: .*$/m, 'version: "1.3"'));
  const cutoverYaml = path.join(example, "content", "cutover.yaml");
  fs.writeFileSync(cutoverYaml, fs.readFileSync(cutoverYaml, "utf8").replace("duration: 30m", "duration: 45m"));
  tminus(example, ["build"]);
  pages.push(...htmlFiles(path.join(example, "output")));
  // The minimal fixture and a new project.
  const minimal = path.join(tmp, "minimal");
  fs.cpSync(path.join(repo, "tests", "fixtures", "minimal"), minimal, { recursive: true });
  tminus(minimal, ["build"]);
  pages.push(...htmlFiles(path.join(minimal, "output")));
  tminus(tmp, ["new", "starter", "--go-live", "2027-03-29"]);
  tminus(path.join(tmp, "starter"), ["build"]);
  pages.push(...htmlFiles(path.join(tmp, "starter", "output")));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("every page kind passes the Nu Html Checker with no error", () => {
  assert.ok(pages.length > 100, `expected the pages of three projects, found ${pages.length}`);
  for (const kind of ["/404.html", "/changes/index.html", "/cutover/index.html", "/search/index.html"]) {
    assert.ok(pages.some((p) => p.endsWith(kind)), `no ${kind} among the checked pages`);
  }
  const java = process.env.JAVA || "java";
  const run = spawnSync(java, ["-jar", VNU_JAR, "--errors-only", "--format", "json", ...pages], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.ok(run.error === undefined, `could not run ${java}: ${run.error}`);
  const report = JSON.parse(run.stderr || '{"messages":[]}');
  const errors = report.messages
    .filter((m) => m.type === "error" || m.subType === "fatal")
    .map((m) => `${path.relative(tmp, fileURLToPath(m.url))}:${m.lastLine}: ${m.message}`);
  assert.deepEqual(errors, [], `Nu Html Checker errors:\n${errors.join("\n")}`);
});
