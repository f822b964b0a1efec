#!/usr/bin/env node
// `npm test`: (1) every host test with vitest (tests/**, except tests/vm/** and
// tests/vm-systemd/**), then (2) the cgroup v2 tests (tests/vm/**) on a pure cgroup v2 kernel,
// and (3) the systemd cgroup driver tests (tests/vm-systemd/**) on pure v2 with systemd as PID 1:
// this host if it is such a host, else inside the throwaway VM of scripts/vm/run-in-vm.sh (-Y for
// systemd). Ends with the line "N passed, N failed[, N skipped]" over all parts; exits 1 if
// anything failed.
//
//   node scripts/test.mjs [--host-only | --vm-only] [-- vitest args for the host part]
//
// If the v2 part cannot run (no qemu and no way to install it, not root, the VM does not
// boot), it says so plainly as "v2 part NOT run: <why>" and counts nothing for it.
// HUSK_REQUIRE_VM=1 makes that a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enterDelegatedLeaf } from './vm/delegate.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(repo, 'node_modules', 'vitest', 'vitest.mjs');
const runInVm = join(repo, 'scripts', 'vm', 'run-in-vm.sh');

const argv = process.argv.slice(2);
const dashDash = argv.indexOf('--');
const flags = dashDash < 0 ? argv : argv.slice(0, dashDash);
const vitestArgs = dashDash < 0 ? [] : argv.slice(dashDash + 1);
const hostPart = !flags.includes('--vm-only');
const vmPart = !flags.includes('--host-only');

// The engines, registry, VM tools... the tests use, from Debian when missing (root only).
if (process.getuid?.() === 0) {
  const deps = spawnSync('bash', [join(repo, 'scripts', 'install-test-deps.sh')], { stdio: 'inherit' });
  if (deps.status !== 0) console.log('install-test-deps failed: the tests that need those packages will fail');
}

const work = mkdtempSync(join(tmpdir(), 'husk-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

/** Counts from vitest's JSON report; a suite that failed without a failed test (import error...) counts as one failure. */
function countReport(file) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const brokenSuites = (r.testResults ?? []).filter(
    (t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  return { passed: r.numPassedTests, failed: r.numFailedTests + brokenSuites, skipped: r.numPendingTests + r.numTodoTests };
}

function add(label, counts, extra = '') {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  lines.push(`${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${extra}`);
}

function vitestCommand(report, paths, more) {
  return [vitest, 'run', ...paths, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...more];
}

/**
 * One suite that needs a host kind this machine may not be: here when it is (`host`), else in
 * the throwaway VM (pure v2; -Y: with systemd as PID 1). Counts it, or says why it did not run.
 */
function vmSuite({ label, dir, what, host, vmFlags, report: reportName }) {
  const report = join(work, reportName);
  // Under TCG emulation everything is ~10x slower than on the host: the tests' own bounds stay, vitest's 30 s default does not.
  const inner = vitestCommand(report, [dir], ['--testTimeout', '300000', '--hookTimeout', '300000']);
  const started = Date.now();
  let notRun;
  let rc;
  if (host) {
    console.log(`== ${what} (${dir}) on this host: it is that kind of host ==`);
    const r = spawnSync(process.execPath, inner, { cwd: repo, stdio: 'inherit', env: { ...process.env, HUSK_REQUIRE_V2: '1' } });
    rc = r.status;
  } else if (process.getuid?.() !== 0) {
    notRun = 'the pure-v2 VM needs root (mount namespace, apt-get); run npm test as root';
  } else {
    console.log(`== ${what} (${dir}) inside the pure-v2 VM${vmFlags.includes('-Y') ? ' with systemd' : ''} (scripts/vm/run-in-vm.sh; TCG: slow to boot) ==`);
    const quoted = ['node', ...inner].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('bash', [runInVm, ...vmFlags, '-t', '1200', '-d', repo, '-d', work, '-e', 'HUSK_REQUIRE_V2=1', '-e', 'CI=1', quoted], {
      cwd: repo,
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
    });
    process.stderr.write(r.stderr ?? '');
    rc = r.status;
    if (!existsSync(report) && rc === 255) {
      const why = (r.stderr ?? '').trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      notRun = `the VM could not run (run-in-vm.sh exit 255): ${why || 'no message; rerun scripts/vm/run-in-vm.sh -v true'}`;
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (notRun !== undefined) {
    lines.push(`${label}: NOT RUN: ${notRun}`);
    if (process.env.HUSK_REQUIRE_VM === '1') totals.failed += 1;
    return;
  }
  const counts = countReport(report);
  if (counts === undefined) add(label, { passed: 0, failed: 1, skipped: 0 }, ` (no report: exit ${rc}${rc === 124 ? ', VM timeout' : ''}; ${seconds} s)`);
  else add(label, counts, ` (${seconds} s${host ? '' : ' including the VM'})`);
}

function isPureV2() {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    return mounts.some((l) => / - cgroup2 /.test(l) && l.split(' ')[4] === '/sys/fs/cgroup') && !mounts.some((l) => / - cgroup /.test(l));
  } catch {
    return false;
  }
}

// On a pure v2 host whose own cgroup is not the root, tests need a delegated parent (see
// scripts/vm/delegate.mjs); set up once for both parts, undone at the end.
const delegation = isPureV2() ? enterDelegatedLeaf() : { env: {}, restore: () => {} };
if (delegation.note !== undefined) console.log(delegation.note);
if (delegation.problem !== undefined) {
  console.log(`cgroup v2: containers cannot get memory/io limits beneath this runner's cgroup: ${delegation.problem}`);
  lines.push(`cgroup v2 delegation NOT POSSIBLE (tests with memory/io limits will fail): ${delegation.problem}`);
}
Object.assign(process.env, delegation.env);

try {
  if (hostPart) {
    console.log('== host tests (vitest, everything under tests/ except tests/vm/ and tests/vm-systemd/) ==');
    const report = join(work, 'host.json');
    const r = spawnSync(process.execPath, vitestCommand(report, [], ['--exclude', 'tests/vm/**', '--exclude', 'tests/vm-systemd/**', ...vitestArgs]), { cwd: repo, stdio: 'inherit' });
    const counts = countReport(report);
    if (counts === undefined) add('host', { passed: 0, failed: 1, skipped: 0 }, ` (vitest produced no report, exit ${r.status ?? r.signal})`);
    else add('host', counts);
  }

  if (vmPart) {
    // (2) cgroup v2 (tests/vm), (3) the systemd cgroup driver on pure v2 + systemd (tests/vm-systemd).
    vmSuite({ label: 'v2 (tests/vm)', dir: 'tests/vm/', what: 'cgroup v2 tests', host: isPureV2(), vmFlags: [], report: 'vm.json' });
    vmSuite({ label: 'systemd (tests/vm-systemd)', dir: 'tests/vm-systemd/', what: 'systemd cgroup driver tests', host: isPureV2() && existsSync('/run/systemd/system'), vmFlags: ['-Y'], report: 'vm-systemd.json' });
  } else {
    lines.push('v2 (tests/vm): NOT RUN: --host-only');
    lines.push('systemd (tests/vm-systemd): NOT RUN: --host-only');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  try {
    delegation.restore();
  } catch (error) {
    lines.push(error.message);
    totals.failed += 1;
  }
}

console.log('\n== summary ==');
for (const l of lines) console.log(l);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 ? 1 : 0);
