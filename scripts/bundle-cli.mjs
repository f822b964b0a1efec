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

await build({
  entryPoints: [`${src}cli.ts`],
  outfile: `${root}dist/cli.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  plugins: [keepModuleUrls],
  legalComments: 'none',
  logLevel: 'warning',
});
