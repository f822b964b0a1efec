/**
 * A container gets a session keyring of its own (runc's "_ses.ID"), so it cannot read keys in
 * the caller's session keyring, as an attacker in the container would look for them: keyctl
 * (KEYCTL_SEARCH) of its session keyring (/proc/keys is masked, as runc masks it). --no-new-keyring keeps the caller's, as runc's flag.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();

// A fresh anonymous session keyring with one user key in it, then exec of argv[1:] inside it
// (keyctl and add_key by raw syscall: no keyutils needed).
const inSessionWithKey = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, KEY_SPEC_SESSION_KEYRING = 248, 250, 1, -3
if libc.syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, None) < 0: sys.exit("keyctl: %d" % ctypes.get_errno())
name = sys.argv[1].encode()
if libc.syscall(SYS_add_key, b"user", name, b"s3cret", 6, KEY_SPEC_SESSION_KEYRING) < 0: sys.exit("add_key: %d" % ctypes.get_errno())
os.execvp(sys.argv[2], sys.argv[2:])
`;

// Inside: the session keyring's description, then whether the caller's key can be found in it.
const lookInside = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_keyctl, KEYCTL_DESCRIBE, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING = 250, 6, 10, -3
buf = ctypes.create_string_buffer(256)
n = libc.syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, buf, 256)
print("session:", buf.value.decode() if n > 0 else "errno %d" % ctypes.get_errno())
found = libc.syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, b"user", sys.argv[1].encode(), 0)
print("secret:", "found" if found >= 0 else "errno %d" % ctypes.get_errno())
`;

async function keysSeenInside(extra: string[]): Promise<{ id: string; secret: string; keys: string; stderr: string; exitCode: number | undefined }> {
  const id = newId('keyring');
  const secret = `husk-secret-${id}`;
  const bundle = await makeHostToolsBundle({ args: ['python3', '-c', lookInside, secret] });
  bundles.push(bundle);
  const r = await execa('python3', ['-c', inSessionWithKey, secret, 'node', cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, 'run', ...extra, '--bundle', bundle.dir, id], {
    reject: false,
    timeout: 60_000,
  });
  return { id, secret, keys: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
}

describe('session keyring', () => {
  it("the container's keyring is its own: the caller's keys are out of its reach", async () => {
    const { id, secret, keys, stderr, exitCode } = await keysSeenInside([]);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(keys).toMatch(new RegExp(`^session: keyring;0;0;[0-9a-f]+;_ses\\.${id}$`, 'm'));
    expect(keys).toMatch(/^secret: errno 126$/m); // ENOKEY
    husk.expectGone(id);
  });

  it('--no-new-keyring keeps the caller\'s session keyring (and so the test above can fail)', async () => {
    const { id, secret, keys, stderr, exitCode } = await keysSeenInside(['--no-new-keyring']);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(keys).toMatch(/^secret: found$/m);
    expect(keys).not.toContain(`_ses.${id}`);
    husk.expectGone(id);
  });
});
