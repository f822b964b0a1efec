#!/usr/bin/env node
// `npm install` hook: builds the C++ addons (husk and the escape lab's husk_lab) with node-gyp,
// after checking that this can work here, so a failure says what to do instead of
// dumping a compiler log.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const fail = (msg) => {
  console.error(`\nhusk: ${msg}\n`);
  process.exit(1);
};

if (process.platform !== 'linux') {
  fail(`husk is a Linux container runtime; it cannot be built on ${process.platform}.`);
}
const missing = ['make', 'python3', process.env.CXX || 'g++'].filter(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
);
if (missing.length > 0) {
  fail(
    `the build tools ${missing.join(', ')} are missing: the addon is compiled by node-gyp.\n` +
      `  Debian/Ubuntu: apt-get install -y build-essential python3\n` +
      `  Fedora:        dnf install -y gcc-c++ make python3`,
  );
}
// husk-init, the program every container's init runs, is linked statically (native/init_main.cc).
const cxx = process.env.CXX || 'g++';
const staticLibc = spawnSync('sh', ['-c', `test -f "$(${cxx} -print-file-name=libc.a)"`], { stdio: 'ignore' }).status === 0;
if (!staticLibc) {
  fail(
    `the static C library (libc.a) is missing: husk-init, the program a container's init runs, is linked statically.\n` +
      `  Debian/Ubuntu: apt-get install -y libc6-dev (part of build-essential)\n` +
      `  Fedora:        dnf install -y glibc-static libstdc++-static`,
  );
}
const require = createRequire(import.meta.url);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild'], { stdio: 'inherit' });
if (result.status !== 0) fail('building the native addon failed (see the compiler output above).');
