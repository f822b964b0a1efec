/**
 * The plan op mount_overlay, as root with an explicit user namespace: the
 * child, once its user namespace (0 -> 100000, 65536 ids) owns its new mount
 * namespace, mounts an overlay of layers owned by ids of that range (what a
 * rootless store holds), with `userxattr` (user.overlay.opaque marks an opaque
 * directory); the files it writes land in the upper dir as the range's ids.
 * The mount never reaches the host's mount table. Where the kernel refuses it
 * (a mount namespace the user namespace does not own), the error names the step.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constants } from '../../../src/native/index.js';
import { launchPlan } from '../../../src/runtime/launch.js';
import { SetupError } from '../../../src/runtime/errors.js';
import { writeIdMaps } from '../../../src/runtime/spawn.js';
import { SyncPoint, type PlanOp } from '../../../src/plan/ops.js';

const BASE = 100_000;
const maps = [{ containerID: 0, hostID: BASE, size: 65536 }];
let dir: string;

const own = (path: string, uid: number, gid = uid): void => chownSync(path, BASE + uid, BASE + gid);

beforeAll(() => {
  dir = mkdtempSync('/tmp/husk-overlay-userns-');
  chmodSync(dir, 0o755);
  for (const d of ['lower1', 'lower1/opq', 'lower1/home', 'lower2', 'lower2/opq', 'upper', 'work', 'merged']) {
    mkdirSync(join(dir, d));
    own(join(dir, d), 0);
  }
  writeFileSync(join(dir, 'lower1/opq/old'), 'hidden');
  writeFileSync(join(dir, 'lower1/home/owned'), 'app');
  own(join(dir, 'lower1/home/owned'), 1000, 50);
  writeFileSync(join(dir, 'lower2/opq/new'), 'new');
  // What a rootless store's unpacker writes for an opaque directory.
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.overlay.opaque", b"y")', join(dir, 'lower2/opq')]);
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function overlayOp(lowers: string[]): PlanOp {
  return { kind: 'mount_overlay', target: join(dir, 'merged'), lowers, lowerdirJoined: lowers.join(':'), upper: join(dir, 'upper'), work: join(dir, 'work'), options: ['userxattr'] };
}

/** The namespaces are made by the child with unshare, the user namespace first (as the runtime's planners do). */
function plan(namespaces: number, overlay: PlanOp, script: string): { cloneFlags: number; ops: PlanOp[] } {
  return {
    cloneFlags: 0,
    ops: [
      { kind: 'unshare', flags: namespaces, what: 'the test\'s namespaces' },
      { kind: 'sync', point: SyncPoint.AfterClone },
      { kind: 'setuser', uid: 0, gid: 0 },
      ...((namespaces & constants.CLONE_NEWNS) !== 0
        ? [{ kind: 'mount', source: null, target: '/', fstype: null, flags: constants.MS_REC | constants.MS_SLAVE, data: null, targetMode: 'as-is' } as PlanOp]
        : []),
      overlay,
      { kind: 'exec', file: '/bin/sh', args: ['sh', '-c', script], env: ['PATH=/usr/bin:/bin'] },
    ],
  };
}

const handlers = { onSyncPoint: (point: SyncPoint, child: { pid: number }) => void (point === SyncPoint.AfterClone && writeIdMaps(child.pid, maps, maps)) };

describe('mount_overlay in a user namespace', () => {
  it('mounts the layers in the child, userxattr honoured, writes as the range\'s ids, nothing on the host', async () => {
    const merged = join(dir, 'merged');
    const script = [
      `cd ${merged}`,
      '{ stat -c "%u:%g %n" home/owned; ls opq; grep " $PWD " /proc/self/mountinfo; id -u; } > report 2>&1',
      'mkdir made && echo x > made/file',
    ].join('; ');
    const child = await launchPlan(plan(constants.CLONE_NEWUSER | constants.CLONE_NEWNS, overlayOp([join(dir, 'lower2'), join(dir, 'lower1')]), script), handlers);
    const exit = await child.wait();
    expect(exit).toEqual({ exitCode: 0, signal: null });
    const report = readFileSync(join(dir, 'upper/report'), 'utf8').split('\n');
    expect(report[0]).toBe('1000:50 home/owned');
    expect(report[1]).toBe('new'); // opq/old is hidden: the upper layer's directory is opaque
    expect(report[2]).toMatch(/ - overlay \S+ rw,.*userxattr/);
    expect(report[3]).toBe('0');
    // Copied-up and new files belong to the namespace's root: host uid 100000.
    for (const path of ['upper/report', 'upper/made', 'upper/made/file']) expect(lstatSync(join(dir, path)).uid, path).toBe(BASE);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(merged);
  });

  it('names the step where the kernel refuses: a user namespace that does not own the mount namespace', async () => {
    const error = await launchPlan(plan(constants.CLONE_NEWUSER, overlayOp([join(dir, 'lower1')]), 'true'), handlers).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect((error as Error).message).toMatch(/mount overlay of 1 layer on .*merged \(userxattr\).*EPERM/);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(join(dir, 'merged'));
  });
});
