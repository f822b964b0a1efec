#!/usr/bin/env node
// After tsc: the CLI as CommonJS, compiled through a V8 code cache.
//
//   dist/cli-bundle.cjs    the CLI and every verb in one CommonJS file (esbuild); verbs stay
//                          lazy: each `import()` of a verb becomes an in-file init
//   dist/cli-light.cjs     the CLI with only the light verbs (src/cli/command-line.ts: start,
//                          state, kill, delete, list, pause, resume), a fraction of the code
//   dist/cli.cjs           the launcher (src/cli/launcher.ts): picks the bundle from the
//                          command line, compiles it with its code cache when that may be
//                          trusted, and runs it
//   dist/cli.js            a link to cli.cjs (what engines, tests and `npm link` call)
//   dist/cli-*.cache       each bundle's code cache, made here after running its verbs once
//
// Why CommonJS: an ES module entry costs the ESM loader (resolution, linking, its own
// compile path) and esbuild's ESM/CJS interop for every built-in, on every command.
// Why a link: package.json says "type": "module", so a dist/cli.js holding CommonJS would
// be parsed as ESM, and a dist/package.json {"type":"commonjs"} would turn the API's
// modules (dist/*.js, which API users and tests import) into CommonJS too. A .cjs file
// is CommonJS whatever the package type, and Node resolves the main script's links
// before it looks at the extension, so `node dist/cli.js` and an exec of dist/cli.js
// (its #!) both run cli.cjs as CommonJS, and the rest of dist/ stays ESM.
// tsc still emits the rest of dist/ (the API, declarations) unchanged.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/`;
const dist = `${root}dist/`;

/**
 * A module that locates files from its own URL (src/native/index.ts finds the addon two
 * levels up) must keep seeing the URL it has in the unbundled dist/: `import.meta.url` in
 * src/X.ts becomes the URL of dist/X.js, computed from the bundle's __dirname (dist/)
 * when it is asked for.
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const distPath = './' + relative(src, args.path).replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `__huskModuleUrl(${JSON.stringify(distPath)})`), loader: 'ts' };
    });
  },
};

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', legalComments: 'none', logLevel: 'warning' };

// Old outputs first: a cache must never outlive the bundle it was made from.
// (tsc's dist/cli-light.js and .d.ts go too: src/cli-light.ts is only the light bundle's entry.)
for (const name of ['cli.js', 'cli.cjs', 'cli-bundle.cjs', 'cli-bundle.cache', 'cli-light.cjs', 'cli-light.cache', 'cli-light.js', 'cli-light.d.ts']) {
  rmSync(join(dist, name), { force: true });
}

// 1. The bundles. Node built-ins stay require()s (external, platform node), made in the
// lazy init of the module that uses them. npm packages stay external too: only the image
// verbs load them, and src/image/unpack.ts patches tar-stream's PAX decoder through
// Node's own module of it, which a bundled copy would not see.
for (const [entry, out] of [['cli.ts', 'cli-bundle.cjs'], ['cli-light.ts', 'cli-light.cjs']]) {
  const bundled = await build({
    ...common,
    entryPoints: [`${src}${entry}`],
    outfile: `${dist}${out}`,
    packages: 'external',
    plugins: [keepModuleUrls],
    banner: { js: 'var __huskModuleUrl = (path) => require("node:url").pathToFileURL(require("node:path").join(__dirname, path)).href;' },
    write: false,
  });
  const code = bundled.outputFiles[0].text.replace(/^#!.*\n/, ''); // the launcher has the #!
  if (/\bimport\(/.test(code)) throw new Error(`bundle-cli: dist/${out} has a dynamic import(), which code compiled by vm.Script cannot run on Node 20`);
  writeFileSync(`${dist}${out}`, code);
}

// 2. The launcher, and dist/cli.js linked to it. Its first two lines are sh, and the second
// is JS too (a string, then a comment), so `node dist/cli.js` and an exec of it run the same
// file. Node 20 loads NODE_EXTRA_CA_CERTS as it starts (about 85 ms a process, before any of
// our code), and engines call husk four times a container: sh moves the value aside to
// HUSK_NODE_EXTRA_CA_CERTS and execs Node without it; the registry client, the only TLS user,
// adds those certificates itself (src/image/extra-ca-certs.ts). POSIX sh, not `env -S`, which
// busybox's env lacks.
const launcherHead = [
  '#!/bin/sh',
  '":" //; [ -z "${NODE_EXTRA_CA_CERTS+set}" ] || { export HUSK_NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; }; exec node "$0" "$@"',
  '// (lines 1-2: see scripts/bundle-cli.mjs)',
].join('\n');
await build({
  ...common,
  stdin: { contents: "import { launch } from './launcher.js';\nlaunch(__dirname, require);\n", resolveDir: `${src}cli`, loader: 'ts', sourcefile: 'cli-entry.ts' },
  outfile: `${dist}cli.cjs`,
  banner: { js: launcherHead },
});
symlinkSync('cli.cjs', `${dist}cli.js`);

// 3. The code caches: a throwaway trainer (src/cli/train-cache.ts) runs each bundle's verbs
// once in one process, on a state root of its own in a temp directory (each verb up to
// "does not exist"; the light verbs also through a created container's life, on a stand-in
// child and a cgroup of plain directories there), then writes what V8 compiled of each.
// Best effort: without a cache the CLI compiles from source.
const work = mkdtempSync(join(tmpdir(), 'husk-train-'));
try {
  const trainer = join(work, 'train.cjs');
  await build({
    ...common,
    stdin: { contents: "import { trainAndWrite } from './train-cache.js';\ntrainAndWrite(process.argv[2], process.argv[3], require);\n", resolveDir: `${src}cli`, loader: 'ts', sourcefile: 'train-entry.ts' },
    outfile: trainer,
  });
  // The verbs' output goes nowhere; the trainer reports on fd 3.
  const result = spawnSync(process.execPath, [trainer, dist, join(work, 'state')], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const report = result.output?.[3]?.toString().trim() ?? '';
  if (result.status !== 0) process.stderr.write(`bundle-cli: no code cache (the CLI compiles from source): ${report || result.error?.message || `exit ${result.status}`}\n`);
  else if (report !== '') process.stderr.write(`bundle-cli: ${report}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
