// Shared by the browser and checker tests: where the repository is and which tminus binary
// to run (TMINUS_BIN, else the newest of target/{debug,release}/tminus, honouring
// CARGO_TARGET_DIR).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function findBinary() {
  if (process.env.TMINUS_BIN) return path.resolve(process.env.TMINUS_BIN);
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
  const candidates = ["debug", "release"]
    .map((p) => path.join(targetDir, p, "tminus"))
    .filter((p) => fs.existsSync(p))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!candidates.length) throw new Error(`no tminus binary in ${targetDir}: run cargo build first or set TMINUS_BIN`);
  return candidates[0];
}
