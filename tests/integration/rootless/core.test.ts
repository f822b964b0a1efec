/**
 * husk for a user without root, as a real unprivileged user made by the test (useradd,
 * /etc/subuid and /etc/subgid ranges, its own XDG_RUNTIME_DIR), nothing mocked, next to
 * runc 1.1.5 rootless in the same test where that helps: the embedded default, a `spec
 * --rootless` bundle, ids beyond the user's own through newuidmap/newgidmap, mappings the
 * user may not make, limits without a delegated cgroup (this host is hybrid: none can be),
 * rlimits, exec; and nothing left in the user's runtime dir after any of it.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/spec/types.js';
import { makeRootlessBundle, type RootlessBundle } from '../../helpers/rootless-bundle.js';
import { createTestUser, type TestUser } from '../../helpers/rootless-user.js';
import { runcBinary } from '../../helpers/runc.js';

let user: TestUser;

/** The user's runtime dir holds husk's state root, empty, and nothing else husk made (runc 1.1 makes runc/ there, whatever --root says). */
function expectNothingLeft(): void {
  expect(readdirSync(user.runtimeDir).filter((name) => name !== 'runc')).toEqual(['husk']);
  expect(readdirSync(join(user.runtimeDir, 'husk'))).toEqual([]);
}

/** runc as the user, its state under the user's home (so the runtime dir stays husk's alone). */
const runc = (args: string[], cwd: string) => user.run([runcBinary!, '--root', join(user.home, '.runc'), ...args], { cwd });

function userDir(name: string): string {
  const dir = join(user.home, name);
  mkdirSync(dir);
  chownSync(dir, user.uid, user.gid);
  return dir;
}

/** A bundle whose process runs `script` with `dir` bound read-write at /data. */
function runsScript(bundle: RootlessBundle, script: string, dir: string, mutate?: (spec: Spec) => void): void {
  bundle.spec.process!.terminal = false;
  bundle.spec.process!.args = ['sh', '-c', script];
  bundle.spec.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'rw'] });
  mutate?.(bundle.spec);
  bundle.save();
}

describe('rootless: husk as a user without root', () => {
  beforeAll(async () => {
    expect(runcBinary, 'runc (scripts/install-test-deps.sh installs it)').toBeDefined();
    user = await createTestUser();
  });
  afterAll(async () => {
    await user?.remove();
  });

  it('the embedded default runs: uid 0 inside is the user outside, state in $XDG_RUNTIME_DIR/husk, nothing left', async () => {
    const run = await user.husk(['run', '--rm', 'demo', '--', 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; hostname; ps -e -o pid= | wc -l']); // sh, ps, wc
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = String(run.stdout).split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines.slice(0, 7)).toEqual(['0', '0', `0 ${user.uid} 1`, `0 ${user.gid} 1`, 'deny', 'demo', '3']);

    // Detached: the init is the user's process on the host; exec enters it as 0 again.
    // Its stdio are a file: the container keeps it open, a pipe would hold execa until it exits.
    const out = join(user.home, 'detached.out');
    const detached = await user.run(['sh', '-c', `exec "$0" "$1" run -d box -- sleep 60 </dev/null >${out} 2>&1`, process.execPath, user.cli]);
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(detached.exitCode).toBe(0);
    const state = JSON.parse(String((await user.husk(['state', 'box'])).stdout)) as { pid: number; status: string };
    expect(state.status).toBe('running');
    expect(statSync(join(user.runtimeDir, 'husk', 'box')).uid).toBe(user.uid);
    const uids = readFileSync(`/proc/${state.pid}/status`, 'utf8').match(/^Uid:\s+(.*)$/m)![1]!.split(/\s+/);
    expect(uids).toEqual([String(user.uid), String(user.uid), String(user.uid), String(user.uid)]);
    const exec = await user.husk(['exec', 'box', 'sh', '-c', 'id -u; echo made > /tmp/made-by-root']);
    expect(exec.stderr).toBe('');
    expect(String(exec.stdout).trim()).toBe('0');
    // A file the container's root creates belongs to the user on the host (seen from outside, through the init's root).
    const made = statSync(`/proc/${state.pid}/root/tmp/made-by-root`);
    expect([made.uid, made.gid]).toEqual([user.uid, user.gid]);
    expect((await user.husk(['delete', '--force', 'box'])).exitCode).toBe(0);
    expectNothingLeft();

    // A state root someone else made (as $TMPDIR/husk-UID could be, in a shared /tmp) is refused.
    const foreign = mkdtempSync(join(tmpdir(), 'husk-rootless-foreign-'));
    chmodSync(foreign, 0o777);
    try {
      const refused = await user.husk(['--root', foreign, 'run', '--rm', 'x', '--', 'true']);
      expect(String(refused.stderr)).toBe(`husk: state root ${foreign} is owned by uid 0, not by this user (uid ${user.uid}): refusing it (set XDG_RUNTIME_DIR, or --root DIR)`);
      expect(readdirSync(foreign)).toEqual([]);
    } finally {
      rmSync(foreign, { recursive: true, force: true });
    }
  });

  it('as uid 0 of a user namespace of its own (unshare -r, one id mapped): the container shares it, within its ids and its setgroups "deny"', async () => {
    const run = await user.run(['unshare', '--user', '--map-root-user', process.execPath, user.cli, 'run', '--rm', 'shared', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map; ls -n /dev/null']);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = String(run.stdout).split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines[0]).toBe('0');
    expect(lines[1]).toBe(`0 ${user.uid} 1`);
    // The host's node, bound: mknod is refused in a user namespace.
    expect(lines[2]).toMatch(/^crw-rw-rw- 1 65534 65534 1, 3 /);
    expectNothingLeft();
  });

  it("`husk spec --rootless` writes runc's rootless template; its bundle runs under husk as under runc, files it makes in a bind are the user's", async () => {
    const ours = await makeRootlessBundle(user, 'spec-husk', 'husk');
    const runcs = await makeRootlessBundle(user, 'spec-runc', 'runc');
    // What differs between runc 1.1.5's template and husk's (runc 1.2's) for every spec, rootless or not.
    const common = (spec: Spec): unknown => {
      const copy = structuredClone(spec);
      delete (copy as Partial<Spec>).ociVersion;
      delete copy.hostname;
      delete copy.process!.capabilities!.ambient;
      copy.linux!.maskedPaths = copy.linux!.maskedPaths!.filter((p) => p !== '/sys/devices/virtual/tpm');
      return copy;
    };
    expect(common(ours.spec)).toEqual(common(runcs.spec));
    expect(ours.spec.linux!.uidMappings).toEqual([{ containerID: 0, hostID: user.uid, size: 1 }]);
    expect(ours.spec.linux!.gidMappings).toEqual([{ containerID: 0, hostID: user.gid, size: 1 }]);

    const data = userDir('spec-data');
    // Also what a user namespace cannot do: /sys is the host's, bound read-only (no network
    // namespace of its own to mount a sysfs for), /dev/null the host's node, bound (no mknod).
    runsScript(ours, 'id -u; cat /proc/self/uid_map; touch /data/$0; stat -c %u:%g /data/$0; awk \'$2 == "/sys" { split($4, o, ","); print $1, $3, o[1] }\' /proc/self/mounts; stat -c "%u:%g %t,%T" /dev/null', data);
    ours.spec.process!.args!.push('made-by-husk');
    ours.save();
    const byHusk = await user.husk(['run', 'spec1'], { cwd: ours.dir });
    expect(byHusk.stderr).toBe('');
    expect(byHusk.exitCode).toBe(0);
    ours.spec.process!.args![3] = 'made-by-runc';
    ours.save();
    const byRunc = await runc(['run', 'spec1'], ours.dir);
    expect(byRunc.exitCode, String(byRunc.stderr)).toBe(0);
    const expected = ['0', `0 ${user.uid} 1`, '0:0', 'sysfs sysfs ro', '65534:65534 1,3'];
    const lines = (out: unknown) => String(out).split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines(byHusk.stdout)).toEqual(expected);
    expect(lines(byRunc.stdout)).toEqual(expected);
    for (const file of ['made-by-husk', 'made-by-runc']) {
      const st = statSync(join(data, file));
      expect([st.uid, st.gid]).toEqual([user.uid, user.gid]);
    }
    expectNothingLeft();
  });

  it('ids beyond the own id come from /etc/subuid and /etc/subgid through newuidmap/newgidmap, as under runc', async () => {
    const { subuid, subgid } = user;
    const bundle = await makeRootlessBundle(user, 'subids');
    const data = userDir('subids-data');
    runsScript(bundle, 'id; cat /proc/self/setgroups; touch /data/$0; stat -c %u:%g /data/$0', data, (spec) => {
      spec.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: subuid!.start, size: subuid!.count }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: subgid!.start, size: subgid!.count }];
      spec.process!.user = { uid: 1000, gid: 1000 };
      spec.process!.args!.push('made-by-runc');
    });
    // data/ is the container's root's (the user's): let its uid 1000 write there.
    await user.run(['chmod', '0777', data]);
    const byRunc = await runc(['run', 'subids'], bundle.dir);
    expect(byRunc.exitCode, String(byRunc.stderr)).toBe(0);
    // Groups as well: newgidmap leaves setgroups allowed for a range of /etc/subgid (runc refuses additional gids rootless).
    bundle.spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
    bundle.spec.process!.args![3] = 'made-by-husk';
    bundle.save();
    const byHusk = await user.husk(['run', 'subids'], { cwd: bundle.dir });
    expect(byHusk.stderr).toBe('');
    expect(byHusk.exitCode).toBe(0);
    expect(String(byHusk.stdout).split('\n').slice(0, 3)).toEqual(['uid=1000 gid=1000 groups=1001', 'allow', '1000:1000']);
    expect(String(byRunc.stdout).split('\n')[2]).toBe('1000:1000');
    for (const file of ['made-by-husk', 'made-by-runc']) {
      const st = statSync(join(data, file));
      expect([st.uid, st.gid]).toEqual([subuid!.start + 999, subgid!.start + 999]);
    }
    expectNothingLeft();
  });

  it('a mapping the user may not make is refused before anything is created, naming the mapping and the file (runc fails too)', async () => {
    const { subuid, subgid } = user;
    const bundle = await makeRootlessBundle(user, 'badmap');
    bundle.spec.process!.terminal = false;
    bundle.spec.process!.args = ['true'];
    // One id past the user's range.
    bundle.spec.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: subuid!.start + 1, size: subuid!.count }];
    bundle.save();
    const husk = await user.husk(['run', 'badmap'], { cwd: bundle.dir });
    expect(husk.exitCode).not.toBe(0);
    expect(String(husk.stderr)).toBe(
      `husk: linux.uidMappings[1]: containerID 1 hostID ${subuid!.start + 1} size ${subuid!.count} (uids 1-${subuid!.count} in the container): ` +
        `host uids ${subuid!.start + 1}-${subuid!.start + subuid!.count} are neither the caller's own uid ${user.uid} nor in its ranges in /etc/subuid ` +
        `(${String(husk.stderr).match(/\/etc\/subuid \(([^)]*) for /)?.[1]} for ${user.name})`,
    );
    expect(String(husk.stderr)).toContain(`${subuid!.start}-${subuid!.start + subuid!.count - 1}`);
    expect((await runc(['run', 'badmap'], bundle.dir)).exitCode).not.toBe(0);
    expectNothingLeft();

    bundle.spec.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }];
    bundle.spec.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: 0, size: 1 }];
    bundle.save();
    const gid = await user.husk(['run', 'badmap'], { cwd: bundle.dir });
    expect(String(gid.stderr)).toMatch(/^husk: linux\.gidMappings\[1\]: containerID 1 hostID 0 size 1 .*: host gids 0-0 are neither the caller's own gid \d+ nor in its ranges in \/etc\/subgid/);
    expect(subgid).toBeDefined();
    expectNothingLeft();
  });

  it('limits are refused without a delegated cgroup (none here: hybrid), before anything exists, as runc refuses them; without limits the container runs with no cgroup', async () => {
    const bundle = await makeRootlessBundle(user, 'limits');
    bundle.spec.process!.terminal = false;
    bundle.spec.process!.args = ['cat', '/proc/self/cgroup'];
    bundle.spec.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 32 } };
    bundle.save();
    const husk = await user.husk(['run', 'limits'], { cwd: bundle.dir });
    expect(husk.exitCode).not.toBe(0);
    expect(String(husk.stderr)).toMatch(
      /^husk: linux\.resources\.memory\.limit: cannot be applied rootless: the container gets no cgroup because cgroups here are hybrid, .*--cgroup-parent.* \(also set: linux\.resources\.pids\.limit\)$/,
    );
    const byRunc = await runc(['run', 'limits'], bundle.dir);
    expect(byRunc.exitCode).not.toBe(0);
    expect(String(byRunc.stderr)).toContain('cannot set memory limit');
    expectNothingLeft();

    // No limits (a device rule that only denies all is fine): it runs, in the caller's own cgroups.
    bundle.spec.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
    bundle.save();
    const unlimited = await user.husk(['run', 'limits'], { cwd: bundle.dir });
    expect(unlimited.stderr).toBe('');
    expect(unlimited.exitCode).toBe(0);
    // No cgroup of its own: it stays in husk's, which is this test's (husk runs beneath it).
    expect(String(unlimited.stdout).trim()).toBe(readFileSync('/proc/self/cgroup', 'utf8').trim());
    // A rule denying one device cannot be enforced without a device cgroup: refused.
    bundle.spec.linux!.resources = { devices: [{ allow: false, type: 'c', major: 1, minor: 3, access: 'w' }] };
    bundle.save();
    const device = await user.husk(['run', 'limits'], { cwd: bundle.dir });
    expect(String(device.stderr)).toMatch(/^husk: linux\.resources\.devices\[0\]: a rule denying a device cannot be enforced rootless/);
    expectNothingLeft();
  });

  it('husk info says what rootless mode can do here: the ranges, the helpers, no delegated cgroup (hybrid), overlay in a user namespace', async () => {
    const json = await user.husk(['info', '--format', 'json']);
    expect(json.exitCode).toBe(0);
    const info = JSON.parse(String(json.stdout)) as { rootless: Record<string, any>; warnings: string[] };
    expect(info.rootless).toMatchObject({
      active: true,
      user: user.name,
      stateRoot: join(user.runtimeDir, 'husk'),
      newuidmap: { path: expect.stringMatching(/\/newuidmap$/), setuid: true },
      newgidmap: { path: expect.stringMatching(/\/newgidmap$/), setuid: true },
      delegatedCgroup: { status: 'no', detail: expect.stringMatching(/^cgroups here are hybrid, .*resource limits are refused$/) },
      overlayInUserNamespace: { status: 'yes' },
    });
    expect(info.rootless['subuid']).toContainEqual(user.subuid);
    expect(info.rootless['subgid']).toContainEqual(user.subgid);
    expect(info.warnings).toContainEqual(expect.stringMatching(/^rootless: no delegated cgroup \(cgroups here are hybrid, .*resource limits are refused\)$/));
    const table = String((await user.husk(['info'])).stdout);
    expect(table).toContain(`Rootless (husk runs rootless now, user ${user.name}):`);
    expect(table).toMatch(new RegExp(`^ {2}subuid ranges +.*${user.subuid!.start}-${user.subuid!.start + user.subuid!.count - 1}.* \\(/etc/subuid\\)$`, 'm'));
    expect(table).toMatch(/^ {2}overlay in a user namespace +yes/m);
  });

  it("an rlimit above the user's hard limit is refused naming it; a uid=/gid= mount option must be mapped", async () => {
    const hard = String((await user.run(['sh', '-c', 'ulimit -Hn'])).stdout).trim();
    const bundle = await makeRootlessBundle(user, 'rlimits');
    bundle.spec.process!.terminal = false;
    bundle.spec.process!.args = ['sh', '-c', 'ulimit -Hn'];
    bundle.spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: Number(hard) + 1 }];
    bundle.save();
    const above = await user.husk(['run', 'rl'], { cwd: bundle.dir });
    expect(String(above.stderr)).toBe(
      `husk: process.rlimits[0]: RLIMIT_NOFILE hard limit ${Number(hard) + 1} is above this user's own hard limit ${hard}: rootless it cannot be raised (that needs CAP_SYS_RESOURCE); ask for ${hard} or less`,
    );
    expectNothingLeft();
    bundle.spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }];
    bundle.save();
    const below = await user.husk(['run', 'rl'], { cwd: bundle.dir });
    expect(below.stderr).toBe('');
    expect(String(below.stdout).trim()).toBe('512');

    // runc's default devpts gid=5 names a group a single mapping does not have (runc refuses it too).
    bundle.spec.mounts!.find((m) => m.type === 'devpts')!.options!.push('gid=5');
    bundle.save();
    const gid = await user.husk(['run', 'rl'], { cwd: bundle.dir });
    expect(String(gid.stderr)).toMatch(/^husk: mounts\[2\]\.options: gid=5: gid 5 is not mapped in the container's user namespace \(linux\.gidMappings\)/);
    expect((await runc(['run', 'rl'], bundle.dir)).exitCode).not.toBe(0);
    expectNothingLeft();
  });
});
