#!/usr/bin/env node
// After tsc: replace dist/cli.js with one bundled ESM file (esbuild) holding the
// CLI and every verb, so a command loads one file instead of ~60 modules
// (resolving, reading, compiling and linking each costs Node start-up time).
// Verbs stay lazy: their `import()` becomes an in-file init, run on demand.
// tsc still emits the rest of dist/ (the API, declarations) unchanged.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/`;

/**
 * A module that locates files from its own URL (src/native/index.ts finds the
 * addon two levels up) must keep seeing the URL it has in the unbundled dist/:
 * `import.meta.url` in src/X.ts becomes the URL of dist/X.js, computed from the
 * bundle's own URL (dist/cli.js) at run time.
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const distPath = './' + relative(src, args.path).replace(/\.ts$/, '.js');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(distPath)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

/**
 * Node built-ins through require(), not ESM imports: an ESM import of a
 * built-in builds its ESM facade, which reads every export (node:fs's lazy
 * ReadStream getter alone loads all of node:stream), and hoists every
 * built-in any verb uses to the bundle's start. As CommonJS requires inside
 * each module's lazy init, a built-in loads when first needed and costs less.
 */
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      // the require() inside the stub below stays a real, run-time require
      args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

await build({
  entryPoints: [`${src}cli.ts`],
  outfile: `${root}dist/cli.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  plugins: [keepModuleUrls, builtinsByRequire],
  // The `require` the built-ins above are loaded with.
  banner: { js: "import { createRequire as __huskCreateRequire } from 'node:module';\nconst require = __huskCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
