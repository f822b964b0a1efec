/**
 * The addon decodes the plan by the schema (native/plan_schema_decode.cc): a
 * malformed op is refused before anything is cloned, with an error naming the op,
 * its kind and the field. No root needed: nothing gets as far as clone.
 */
import { describe, expect, it } from 'vitest';
import { native } from '../../../src/native/index.js';

const exec = { kind: 'exec', file: '/bin/true', args: ['true'], env: [] };
const launch = (...ops: object[]) => () => native.launch({ cloneFlags: 0, ops: ops as { kind: string }[] });

describe('plan decoding', () => {
  it('refuses a string holding a NUL byte, naming the op and the field', () => {
    expect(launch({ kind: 'mkdir', path: '/a\0b' }, exec)).toThrow(/plan op 0 \(mkdir\): field "path" holds a NUL byte/);
    expect(launch({ ...exec, args: ['true', 'x\0y'] })).toThrow(/plan op 0 \(exec\): field "args"\[1\] holds a NUL byte/);
    expect(launch({ kind: 'sethostname', name: 'ok' }, { ...exec, env: ['A=\0'] })).toThrow(
      /plan op 1 \(exec\): field "env"\[0\] holds a NUL byte/,
    );
  });

  it("checks each kind's fields: missing, unknown, of the wrong type, of the wrong count", () => {
    expect(launch({ kind: 'mkdir' }, exec)).toThrow(/plan op 0 \(mkdir\): field "path" is missing/);
    expect(launch({ kind: 'mkdir', path: '/a', mode: 1 }, exec)).toThrow(/plan op 0 \(mkdir\): unknown field "mode"/);
    expect(launch({ kind: 'umask', mask: '022' }, exec)).toThrow(/plan op 0 \(umask\): field "mask" is not an integer/);
    expect(launch({ kind: 'umask', mask: 1.5 }, exec)).toThrow(/field "mask" is not an integer/);
    expect(launch({ kind: 'chroot', path: '/', chdir: 1 }, exec)).toThrow(/plan op 0 \(chroot\): field "chdir" is not a boolean/);
    expect(launch({ kind: 'stdio', fds: [1, 2] }, exec)).toThrow(/plan op 0 \(stdio\): field "fds" must hold 3 numbers/);
    expect(launch({ kind: 'setgroups', gids: [0, 'x'] }, exec)).toThrow(/field "gids"\[1\] is not an integer/);
    expect(
      launch({ kind: 'remount', target: '/', flags: 0, clearFlags: 0, targetMode: 'elsewhere' }, exec),
    ).toThrow(/plan op 0 \(remount\): field "targetMode" is not one of as-is, in-root, in-root-mkdir, in-root-file/);
    expect(launch({ kind: 'no_such_op' }, exec)).toThrow(/plan op 0: unknown kind "no_such_op"/);
  });

  it("has no escape-lab op in the runtime's addon: the probe that plants a leaked fd is the lab's own", async () => {
    const probe = { kind: 'escape_probe', probe: 0, path: '/', hostPid: 1, hostMountNsInode: 1 };
    expect(launch(probe, exec)).toThrow(/plan op 0: unknown kind "escape_probe"/);
    const { labInterpreter } = await import('../../../src/lab/native.js');
    // The lab's addon decodes it (and refuses a malformed one the same way).
    expect(() => labInterpreter.launch({ cloneFlags: 0, ops: [{ ...probe, probe: 'x' }, exec] as { kind: string }[] })).toThrow(
      /plan op 0 \(escape_probe\): field "probe" is not an integer/,
    );
  });

  it('takes null for a nullable string and an absent optional field, and a label for TypeScript only', () => {
    // The mount goes wrong only in the child (EINVAL), so decoding got past it: run a real launch.
    expect(
      launch(
        { kind: 'unshare', flags: 0, what: 'nothing' },
        { kind: 'mount', source: null, target: '/', fstype: null, flags: 0, data: null, targetMode: 'as-is' },
        { kind: 'mount', source: '/', target: '/', fstype: null, flags: 0, data: null, targetMode: 'as-is', sourceInRoot: undefined },
        { kind: 'mount', source: '/', target: '/', fstype: 'x', flags: 0, data: null, targetMode: 'as-is', sourceInRoot: 7 },
      ),
    ).toThrow(/plan op 3 \(mount\): field "sourceInRoot" is not a boolean/);
  });

  it('reports a failed op as a SetupError carrying the op, its step and errno', async () => {
    const { launchPlan } = await import('../../../src/runtime/launch.js');
    const { SetupError } = await import('../../../src/runtime/errors.js');
    const error = await launchPlan({
      cloneFlags: 0,
      ops: [
        { kind: 'chdir', path: '/nonexistent-husk-dir', verifyInRoot: false },
        { kind: 'exec', file: '/bin/true', args: ['true'], env: [] },
      ],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect(error).toMatchObject({ op: 'chdir', step: 'chdir to /nonexistent-husk-dir', code: 'ENOENT', errno: -2 });
  });
});
