/**
 * A container made by `husk run` from an OCI bundle is really isolated: every
 * namespace is its own, the host's root is out of reach, masked and read-only
 * paths hold, and the process has exactly the attributes config.json gives it.
 * Runs for real as root: the container's process is the static testinit.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, testUser } from '../../helpers/rootfs.js';
import type { Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();

/** Runs testinit with `args` in a fresh container; returns its stdout (asserting exit 0). */
async function inContainer(args: string[], mutate?: (spec: Spec) => void, extraRunArgs: string[] = []): Promise<string> {
  const bundle = await makeTestBundle({ args, ...(mutate && { mutate }) });
  bundles.push(bundle);
  const result = await husk.run(['run', '--bundle', bundle.dir, ...extraRunArgs, newId('iso')]);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return String(result.stdout);
}

describe('namespaces', () => {
  it('gives the container its own pid, net, ipc, uts, mount and cgroup namespaces', async () => {
    const out = await inContainer(['ns'], (spec) => {
      if (!spec.linux!.namespaces!.some((n) => n.type === 'cgroup')) spec.linux!.namespaces!.push({ type: 'cgroup' });
    });
    const inside = Object.fromEntries(out.trim().split('\n').map((line) => line.split(' ') as [string, string]));
    for (const ns of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']) {
      const host = readlinkSync(`/proc/self/ns/${ns}`).match(/\[(\d+)\]/)![1];
      expect(inside[ns], ns).toBeDefined();
      expect(inside[ns], ns).not.toBe(host);
    }
    // not asked for: shared with the host
    expect(inside['user']).toBe(readlinkSync('/proc/self/ns/user').match(/\[(\d+)\]/)![1]);
  });

  it('runs the process as PID 1 with its own hostname', async () => {
    expect((await inContainer(['pid'])).trim()).toBe('1');
    expect((await inContainer(['hostname'], (spec) => (spec.hostname = 'boxed'))).trim()).toBe('boxed');
  });

  it('shows only the loopback device', async () => {
    expect((await inContainer(['netdevs'])).trim().split('\n')).toEqual(['lo']);
  });

  it('has its own mount table, rooted at the rootfs, with none of the host mounts', async () => {
    const mounts = await inContainer(['mounts']);
    const points = mounts.trim().split('\n').map((line) => line.split(' ')[4]);
    expect(points).toContain('/');
    expect(points).toContain('/proc');
    expect(points).toContain('/dev/pts');
    const hostOnly = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p): p is string => p !== undefined && p.startsWith('/work'));
    for (const p of hostOnly) expect(points).not.toContain(p);
  });

  it('maps the user namespace as uidMappings says', async () => {
    const out = await inContainer(['ids'], (spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(out).toMatch(/^uid=0 gid=0 /);
  });
});

describe('the host root is out of reach', () => {
  it('/proc/1/root is the container itself', async () => {
    const out = await inContainer(['ls', '/proc/1/root']);
    expect(out.split('\n')).toContain('bin');
    expect(out.split('\n')).not.toContain('work');
  });

  it('walking .. from / stays at the container root', async () => {
    const out = await inContainer(['ls', '/../../../..']);
    expect(out.split('\n')).toContain('bin');
    expect(out.split('\n')).not.toContain('work');
  });

  it('the classic chroot escape leads nowhere after pivot_root', async () => {
    // testinit chroot-escape: mkdir, chroot into it, chdir .. repeatedly, chroot("."),
    // then open the path: the host's /etc/os-release exists, the container's does not.
    const bundle = await makeTestBundle({
      args: ['chroot-escape', '/etc/os-release'],
      mutate: (spec) => {
        for (const set of ['bounding', 'effective', 'permitted'] as const) spec.process!.capabilities![set]!.push('CAP_SYS_CHROOT');
        spec.root!.readonly = false;
      },
    });
    bundles.push(bundle);
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('escape')]);
    expect(existsSync('/etc/os-release')).toBe(true);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('open /etc/os-release after the escape attempt: ENOENT');
  });

  it('leaves no fd of the runtime open in the container', async () => {
    const out = await inContainer(['fds']);
    expect(out.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['0', '1', '2']);
  });

  it('keeps --preserve-fds fds open, and only those', async () => {
    // The fd given as husk's fd 3 (with none given, --preserve-fds 1 is refused: tests/integration/security).
    const bundle = await makeTestBundle({ args: ['fds'] });
    bundles.push(bundle);
    const given = openSync(bundle.configPath, 'r');
    try {
      const result = await husk.run(['run', '--bundle', bundle.dir, '--preserve-fds', '1', newId('iso')], { stdio: ['ignore', 'pipe', 'pipe', given] as never });
      expect(result.stderr).toBe('');
      const fds = String(result.stdout).trim().split('\n').map((l) => l.split(' ')[0]);
      expect(fds).toEqual(['0', '1', '2', '3']);
    } finally {
      closeSync(given);
    }
  });
});

describe('masked and read-only paths', () => {
  it('masks files with /dev/null and directories with an empty tmpfs', async () => {
    // Which masked paths exist depends on the kernel's configuration: test those that do.
    const file = ['/proc/kcore', '/proc/timer_list', '/proc/keys', '/proc/sched_debug'].find((p) => existsSync(p));
    const dir = ['/proc/scsi', '/proc/acpi', '/sys/firmware'].find((p) => existsSync(p) && readdirSync(p).length > 0);
    expect(file).toBeDefined();
    expect(dir).toBeDefined();
    const masks = (spec: Spec): void => void (spec.linux!.maskedPaths = [file!, dir!]);
    expect(await inContainer(['stat', file!], masks)).toMatch(/type=char .*rdev=1:3/);
    expect(await inContainer(['ls', dir!], masks)).toBe('');
  });

  it('makes readonlyPaths and a readonly root refuse writes', async () => {
    expect((await inContainer(['open-write', '/proc/sys/kernel/domainname'])).trim()).toBe('EROFS');
    const files = { 'etc/marker': 'x\n' };
    const bundle = async (readonly: boolean): Promise<string> => {
      const b = await makeTestBundle({ args: ['open-write', '/etc/marker'], files, mutate: (spec) => (spec.root!.readonly = readonly) });
      bundles.push(b);
      const result = await husk.run(['run', '--bundle', b.dir, newId(`ro-${readonly}`)]);
      return String(result.stdout).trim();
    };
    expect(await bundle(true)).toBe('EROFS');
    expect(await bundle(false)).toBe('ok');
  });
});

describe('process attributes', () => {
  it('drops capabilities to the configured sets', async () => {
    const out = await inContainer(['caps']);
    // runc's default: CAP_AUDIT_WRITE(29), CAP_KILL(5), CAP_NET_BIND_SERVICE(10)
    const mask = ((1n << 29n) | (1n << 5n) | (1n << 10n)).toString(16).padStart(16, '0');
    expect(out).toContain(`CapBnd:\t${mask}`);
    expect(out).toContain(`CapEff:\t${mask}`);
    expect(out).toContain(`CapPrm:\t${mask}`);
    expect(out).toContain('CapInh:\t0000000000000000');
  });

  it('raises ambient capabilities for a non-root user', async () => {
    const out = await inContainer(['caps'], (spec) => {
      spec.process!.user = { uid: testUser.uid, gid: testUser.gid };
      spec.process!.capabilities!.inheritable = ['CAP_NET_BIND_SERVICE'];
      spec.process!.capabilities!.ambient = ['CAP_NET_BIND_SERVICE'];
    });
    expect(out).toContain(`CapAmb:\t${(1n << 10n).toString(16).padStart(16, '0')}`);
    expect(out).toContain(`CapEff:\t${(1n << 10n).toString(16).padStart(16, '0')}`);
  });

  it('refuses an unknown capability name before creating anything', async () => {
    const bundle = await makeTestBundle({ mutate: (spec) => spec.process!.capabilities!.bounding!.push('CAP_FLY') });
    bundles.push(bundle);
    const result = await husk.run(['run', '--bundle', bundle.dir, 'badcap']);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('process.capabilities.bounding[3]: unknown capability "CAP_FLY"');
  });

  it('sets rlimits', async () => {
    const out = await inContainer(['rlimit', 'NOFILE'], (spec) => (spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 777 }]));
    expect(out.trim()).toBe('512 777');
  });

  it('runs as the configured user, groups and umask', async () => {
    const ids = await inContainer(['ids'], (spec) => (spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 7] }));
    expect(ids).toMatch(/uid=1000 gid=1000 euid=1000 egid=1000 groups=5,7/);
    const umask = await inContainer(['umask'], (spec) => (spec.process!.user.umask = 0o027));
    expect(umask.trim()).toBe('0027');
  });

  it('starts in process.cwd with exactly process.env', async () => {
    expect((await inContainer(['cwd'], (spec) => (spec.process!.cwd = '/tmp'))).trim()).toBe('/tmp');
    // HOME comes from the rootfs's /etc/passwd when the config has none, as runc does.
    const env = await inContainer(['env'], (spec) => (spec.process!.env = ['A=1', 'B=two words']));
    expect(env.trim().split('\n')).toEqual(['A=1', 'B=two words', 'HOME=/root']);
    const own = await inContainer(['env'], (spec) => (spec.process!.env = ['HOME=/mine']));
    expect(own.trim().split('\n')).toEqual(['HOME=/mine']);
  });

  it('sets no_new_privs when asked', async () => {
    expect((await inContainer(['nnp'], (spec) => (spec.process!.noNewPrivileges = true))).trim()).toBe('1');
    expect((await inContainer(['nnp'], (spec) => (spec.process!.noNewPrivileges = false))).trim()).toBe('0');
  });

  it('applies sysctls and oomScoreAdj', async () => {
    expect(
      (await inContainer(['sysctl', 'net.ipv4.ip_forward'], (spec) => (spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }))).trim(),
    ).toBe('1');
    expect((await inContainer(['oom'], (spec) => (spec.process!.oomScoreAdj = 500))).trim()).toBe('500');
  });

  it('creates the default devices and the /dev links', async () => {
    const out = await inContainer(['ls', '/dev']);
    for (const name of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'fd', 'stdin', 'stdout', 'stderr']) {
      expect(out.split('\n'), name).toContain(name);
    }
    expect((await inContainer(['stat', '/dev/null'])).trim()).toBe('type=char mode=0666 uid=0 gid=0 size=0 rdev=1:3');
  });

  it('works with --no-pivot (MS_MOVE + chroot)', async () => {
    expect((await inContainer(['pid'], undefined, ['--no-pivot'])).trim()).toBe('1');
  });
});
