// The test runner on a pure cgroup v2 host whose own cgroup is not the root (systemd hosts,
// GitHub runners). Tests put containers beneath the runner's own cgroup, but cgroup v2 gives
// domain controllers (memory, io) to children only of a cgroup WITHOUT processes of its own
// (the "no internal processes" rule), and the runner itself is in that cgroup.
//
// enterDelegatedLeaf(): when the runner is the ONLY process of its cgroup OWN, it moves itself
// into the leaf OWN/husk-tests-runner (within its own subtree, never out of it), enables OWN's
// controllers for its children, and returns HUSK_TEST_CGROUP_PARENT=OWN/husk-tests for the
// tests (tests/helpers, tests/cgroups/lib.ts and tests/vm read it); restore() undoes it all.
// When OWN holds other processes, moving them is not ours to do: it returns `problem`, which
// says to start the runner in a cgroup of its own, e.g.
//   sudo systemd-run --scope -p Delegate=yes --quiet node scripts/test.mjs
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MOUNT = '/sys/fs/cgroup';
const RUNNER_LEAF = 'husk-tests-runner';
const TESTS_PARENT = 'husk-tests';

const words = (text) => (text ?? '').trim().split(/\s+/).filter(Boolean);
const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** This process's cgroup2 path ("/user.slice/..."), or undefined without a cgroup2 entry. */
export function ownV2Cgroup() {
  const line = (read('/proc/self/cgroup') ?? '').split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? undefined : line.slice(3);
}

/**
 * @returns {{ env: Record<string, string>, note?: string, problem?: string, restore: () => void }}
 */
export function enterDelegatedLeaf() {
  const nothing = { env: {}, restore: () => {} };
  const own = ownV2Cgroup();
  if (own === undefined || own === '/') return nothing; // the root cgroup may have processes and children alike
  const dir = join(MOUNT, own);
  const available = words(read(join(dir, 'cgroup.controllers')));
  const enabled = new Set(words(read(join(dir, 'cgroup.subtree_control'))));
  if (!available.includes('memory')) {
    return { ...nothing, problem: `${dir} has no memory controller (not delegated to it): memory limits cannot be tested beneath it; start the tests in a delegated cgroup (systemd: Delegate=yes)` };
  }
  const others = words(read(join(dir, 'cgroup.procs'))).map(Number).filter((pid) => pid !== process.pid);
  if (others.length > 0) {
    return {
      ...nothing,
      problem:
        `${dir} also holds ${others.length} process(es) that are not the test runner's (pids ${others.slice(0, 5).join(' ')}${others.length > 5 ? ' ...' : ''}); ` +
        'cgroup v2 gives memory and io to children only of a cgroup without processes, and moving those is not ours to do. ' +
        'Start the tests in a cgroup of their own: sudo systemd-run --scope -p Delegate=yes --quiet node scripts/test.mjs',
    };
  }
  const leaf = join(dir, RUNNER_LEAF);
  mkdirSync(leaf);
  let turnedOn = [];
  try {
    writeFileSync(join(leaf, 'cgroup.procs'), String(process.pid));
    turnedOn = available.filter((c) => !enabled.has(c));
    if (turnedOn.length > 0) writeFileSync(join(dir, 'cgroup.subtree_control'), turnedOn.map((c) => `+${c}`).join(' '));
  } catch (error) {
    undo(dir, leaf, []);
    return { ...nothing, problem: `could not set up ${leaf} for the tests: ${error.code ?? error.message}` };
  }
  return {
    env: { HUSK_TEST_CGROUP_PARENT: join(own, TESTS_PARENT) },
    note: `cgroup v2: the test runner moved from ${own} to ${join(own, RUNNER_LEAF)}; containers go beneath ${join(own, TESTS_PARENT)}`,
    restore: () => undo(dir, leaf, turnedOn),
  };
}

/** Back as before: the tests' parent removed, controllers off again, the runner back in OWN, the leaf gone. */
function undo(dir, leaf, turnedOn) {
  const testsParent = join(dir, TESTS_PARENT);
  const problems = [];
  try {
    if (existsSync(testsParent)) rmdirSync(testsParent);
  } catch (error) {
    problems.push(`${testsParent} left behind: ${error.code}`);
  }
  try {
    if (turnedOn.length > 0) writeFileSync(join(dir, 'cgroup.subtree_control'), turnedOn.map((c) => `-${c}`).join(' '));
    writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
    rmdirSync(leaf);
  } catch (error) {
    problems.push(`restoring ${dir}: ${error.code ?? error.message}`);
  }
  if (problems.length > 0) throw new Error(`cgroup v2 delegation: ${problems.join('; ')}`);
}
