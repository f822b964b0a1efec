/** The container planner is pure: spec in, ordered steps out. No root needed. */
import { describe, expect, it } from 'vitest';
import { constants as c } from '../../../src/native/index.js';
import { makedev, planContainer, type ContainerPlanInput } from '../../../src/plan/container.js';
import { planExec } from '../../../src/plan/exec.js';
import { MOUNT_ATTR, MS_POSIXACL, parseMountOptions } from '../../../src/plan/mount-options.js';
import { SyncPoint, type PlanOp } from '../../../src/plan/ops.js';
import { defaultSpec } from '../../../src/spec/defaults.js';
import { SpecError } from '../../../src/spec/errors.js';
import type { Spec } from '../../../src/spec/types.js';

function input(mutate?: (spec: Spec) => void): ContainerPlanInput {
  const spec = defaultSpec({ args: ['/bin/app', 'x'], terminal: false });
  mutate?.(spec);
  return { spec, rootfs: '/b/rootfs', bundle: '/b', gatePath: '/run/husk/x/exec.fifo', lastCap: 40, cgroupMount: { kind: 'v2' } };
}
const kinds = (ops: PlanOp[]): string[] => ops.map((op) => op.kind);

describe('planContainer', () => {
  it('orders the steps as the init takes them', () => {
    const plan = planContainer(input());
    const order = kinds(plan.ops);
    const at = (kind: string): number => order.indexOf(kind);
    // No stop after the clone unless the runtime places the child in its cgroups itself.
    expect(order.slice(0, 3)).toEqual(['dumpable', 'pdeathsig', 'open_gate']);
    expect(kinds(planContainer({ ...input(), placedByRuntime: true }).ops).slice(0, 4)).toEqual(['dumpable', 'pdeathsig', 'sync', 'open_gate']);
    // As runc: masked and read-only paths once the rootfs is the root, then the read-only root.
    expect(at('enter_rootfs')).toBeLessThan(at('pivot_root'));
    expect(at('pivot_root')).toBeLessThan(at('mask'));
    expect(at('mask')).toBeLessThan(at('readonly'));
    expect(at('readonly')).toBeLessThan(at('remount'));
    expect(order.lastIndexOf('remount')).toBeLessThan(at('bounding'));
    expect(at('bounding')).toBeLessThan(at('setuser'));
    expect(at('setuser')).toBeLessThan(at('caps'));
    expect(order.slice(-6)).toEqual(['resolve_exec', 'close_fds', 'pdeathsig', 'sync', 'wait_gate', 'exec']);
    expect(plan.ops.at(-3)).toEqual({ kind: 'sync', point: SyncPoint.Ready });
    expect(plan.ops.at(-1)).toEqual({ kind: 'exec', file: '/bin/app', args: ['/bin/app', 'x'], env: expect.any(Array) });
    // new namespaces come from clone3 itself, except cgroup (made after the cgroup is joined)
    expect(plan.cloneFlags & c.CLONE_NEWPID).toBeTruthy();
    expect(plan.cloneFlags & c.CLONE_NEWNS).toBeTruthy();
    expect(plan.cloneFlags & c.CLONE_NEWCGROUP).toBe(0);
  });

  it('brings lo up in a network namespace it creates, before the jail, and not in a joined one', () => {
    const order = kinds(planContainer(input()).ops);
    expect(order.filter((k) => k === 'loopback_up')).toHaveLength(1);
    expect(order.indexOf('loopback_up')).toBeLessThan(order.indexOf('pivot_root'));
    const joined = planContainer(
      input((spec) => (spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/9/ns/net' } : n)))),
    );
    expect(kinds(joined.ops)).not.toContain('loopback_up');
  });

  it('makes the rootfs a mount point before entering it, and nothing propagates back', () => {
    const ops = planContainer(input()).ops;
    const mounts = ops.filter((op) => op.kind === 'mount');
    expect(mounts[0]).toMatchObject({ source: null, target: '/', flags: c.MS_SLAVE | c.MS_REC });
    expect(mounts[1]).toMatchObject({ source: '/b/rootfs', target: '/b/rootfs', flags: c.MS_BIND | c.MS_REC });
  });

  it('turns a read-only bind into a bind and a remount, and resolves relative sources in the bundle', () => {
    const ops = planContainer(input((spec) => spec.mounts!.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro', 'nosuid', 'rprivate'] }))).ops;
    const i = ops.findIndex((op) => op.kind === 'mount' && op.target === '/data');
    expect(ops[i]).toMatchObject({ source: '/b/data', fstype: null, flags: c.MS_BIND | c.MS_REC, targetMode: 'in-root-mkdir' });
    expect(ops[i + 1]).toMatchObject({ kind: 'remount', target: '/data', flags: c.MS_RDONLY | c.MS_NOSUID, targetMode: 'in-root' });
    expect(ops[i + 2]).toMatchObject({ kind: 'mount', source: null, target: '/data', flags: c.MS_PRIVATE | c.MS_REC });
  });

  it('binds the host devices instead of mknod in a user namespace, and becomes its root first', () => {
    const plan = planContainer(
      input((spec) => {
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      }),
    );
    const ops = plan.ops;
    expect(ops.some((op) => op.kind === 'mknod')).toBe(false);
    expect(ops).toContainEqual({ kind: 'mount', source: '/dev/null', target: '/dev/null', fstype: null, flags: c.MS_BIND, data: null, targetMode: 'in-root-file' });
    const sync = ops.findIndex((op) => op.kind === 'open_gate') - 1;
    expect(ops[sync + 1]!.kind).toBe('open_gate'); // still as the runtime's own uid
    // The user namespace (and the others, owned by it) by unshare, not by the clone: husk-init,
    // exec'd in a user namespace without maps, would have no capabilities. Then the maps, then root.
    expect(plan.cloneFlags).toBe(0);
    expect(ops[sync + 2]).toMatchObject({ kind: 'unshare', flags: expect.any(Number) });
    expect((ops[sync + 2] as { flags: number }).flags & (c.CLONE_NEWUSER | c.CLONE_NEWPID | c.CLONE_NEWNS)).toBe(c.CLONE_NEWUSER | c.CLONE_NEWPID | c.CLONE_NEWNS);
    expect(ops[sync + 3]).toEqual({ kind: 'sync', point: SyncPoint.IdMaps });
    expect(ops[sync + 4]).toEqual({ kind: 'setuser', uid: 0, gid: 0 });
    // The init is born in the new pid namespace: a sibling the child clones.
    expect(ops.findIndex((op) => op.kind === 'clone_sibling')).toBeGreaterThan(sync + 4);
  });

  it('skips ambient capabilities that are not also permitted and inheritable (runc 1.1 spec)', () => {
    const ops = planContainer(input((spec) => (spec.process!.capabilities!.ambient = ['CAP_KILL', 'CAP_NET_BIND_SERVICE']))).ops;
    expect(ops.find((op) => op.kind === 'caps')).toMatchObject({ ambient: 0 });
    const kept = planContainer(
      input((spec) => {
        spec.process!.capabilities!.inheritable = ['CAP_KILL'];
        spec.process!.capabilities!.ambient = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
      }),
    ).ops;
    expect(kept.find((op) => op.kind === 'caps')).toMatchObject({ ambient: 1 << 5 });
  });

  it('writes sysctls through the container\'s /proc, in the jail, before /proc/sys turns read-only', () => {
    const ops = planContainer(input((spec) => (spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }))).ops;
    const write = ops.findIndex((op) => op.kind === 'sysctl' && op.file === 'net/ipv4/ip_forward' && op.value === '1');
    expect(write).toBeGreaterThan(ops.findIndex((op) => op.kind === 'pivot_root'));
    expect(write).toBeLessThan(ops.findIndex((op) => op.kind === 'readonly'));
  });

  it('keeps the whole namespace rslave until the jail, then gives the root its rootfsPropagation', () => {
    const rootMounts = (value?: string) =>
      planContainer(input((spec) => (spec.linux!.rootfsPropagation = value)))
        .ops.filter((op) => op.kind === 'mount' && op.source === null && op.target === '/')
        .map((op) => (op as { flags: number }).flags);
    expect(rootMounts(undefined)).toEqual([c.MS_SLAVE | c.MS_REC]);
    expect(rootMounts('private')).toEqual([c.MS_SLAVE | c.MS_REC, c.MS_PRIVATE]);
    expect(rootMounts('runbindable')).toEqual([c.MS_SLAVE | c.MS_REC, c.MS_UNBINDABLE | c.MS_REC]);
    // shared: a peer group of its own, never the host's
    expect(rootMounts('rshared')).toEqual([c.MS_SLAVE | c.MS_REC, c.MS_PRIVATE | c.MS_REC, c.MS_SHARED | c.MS_REC]);
    expect(() => rootMounts('public')).toThrow('linux.rootfsPropagation: unknown propagation "public"');
  });

  it('uses MS_MOVE + chroot with --no-pivot, and the tmpfs root for the embedded default', () => {
    const ops = planContainer({ ...input(), noPivot: true, rootfsTmpfs: true, rootfsSymlinks: [['usr/bin', '/bin']] }).ops;
    expect(kinds(ops)).toContain('move_chroot');
    expect(kinds(ops)).not.toContain('pivot_root');
    expect(ops).toContainEqual({ kind: 'mount', source: 'tmpfs', target: '/b/rootfs', fstype: 'tmpfs', flags: c.MS_NOSUID | c.MS_NODEV, data: 'mode=755', targetMode: 'as-is' });
    expect(ops[ops.findIndex((op) => op.kind === 'enter_rootfs') + 1]).toEqual({ kind: 'symlink', target: 'usr/bin', path: '/bin' });
  });

  it('joins a user and a pid namespace first, then makes the new ones and forks (runc nsexec order)', () => {
    const plan = planContainer(
      input((spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
        spec.linux!.namespaces!.push({ type: 'pid', path: '/proc/9/ns/pid' }, { type: 'user', path: '/proc/9/ns/user' });
      }),
    );
    expect(plan.cloneFlags).toBe(0);
    const order = plan.ops.map((op) => (op.kind === 'setns' ? `setns:${op.what}` : op.kind === 'sync' ? `sync:${SyncPoint[op.point]}` : op.kind));
    const from = order.indexOf('setns:user');
    expect(order.slice(from, from + 8)).toEqual(['setns:user', 'setns:pid', 'unshare', 'setuser', 'pdeathsig', 'clone_sibling', 'pdeathsig', 'sethostname']);
    const unshare = plan.ops.find((op) => op.kind === 'unshare')!;
    expect(unshare).toMatchObject({ what: 'CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWUTS' });
    // mknod is refused in any user namespace but the host's: devices are bound
    expect(plan.ops.some((op) => op.kind === 'mknod')).toBe(false);
  });

  it('stops for id maps after making a new user namespace with unshare', () => {
    const plan = planContainer(
      input((spec) => {
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/9/ns/net' } : n));
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      }),
    );
    const order = plan.ops.map((op) => (op.kind === 'sync' ? `sync:${SyncPoint[op.point]}` : op.kind));
    const from = order.indexOf('setns');
    expect(order.slice(from, from + 5)).toEqual(['setns', 'unshare', 'sync:IdMaps', 'setuser', 'pdeathsig']);
    expect(order).toContain('clone_sibling'); // a new pid namespace made by unshare needs the clone too
    // sysfs cannot be mounted from a user namespace that does not own the network
    // namespace: the host's /sys is bound read-only instead, as runc does
    const sys = plan.ops.filter((op) => op.kind !== 'sync' && 'target' in op && op.target === '/sys');
    expect(sys[0]).toMatchObject({ kind: 'mount', source: '/sys', fstype: null, flags: c.MS_BIND | c.MS_REC });
    expect(sys[1]).toMatchObject({ kind: 'remount', flags: c.MS_RDONLY | c.MS_NOSUID | c.MS_NOEXEC | c.MS_NODEV });
  });

  it('refuses what it cannot do, naming the JSON path', () => {
    const idmapTmpfs = (): unknown => planContainer(input((spec) => spec.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] })));
    expect(idmapTmpfs).toThrow(/^mounts\[7\]: idmapped mounts .* only supported for bind mounts/);
    const noMappings = (): unknown => planContainer(input((spec) => spec.mounts!.push({ destination: '/x', type: 'bind', source: '/x', options: ['rbind', 'idmap'] })));
    expect(noMappings).toThrow(/^mounts\[7\]\.uidMappings: an idmapped mount needs uidMappings and gidMappings/);
    const copyupBind = (): unknown => planContainer(input((spec) => spec.mounts!.push({ destination: '/x', type: 'bind', source: '/x', options: ['rbind', 'tmpcopyup'] })));
    expect(copyupBind).toThrow(/^mounts\[7\]: tmpcopyup .* does not apply to a bind mount/);
  });

  it('applies recursive attributes with mount_setattr after the mount, and tmpcopyup as part of the tmpfs mount', () => {
    const ops = planContainer(
      input((spec) => {
        spec.mounts!.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'rro', 'rnosuid', 'nodev'] });
        spec.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755', 'acl'] });
      }),
    ).ops;
    const i = ops.findIndex((op) => op.kind === 'mount' && op.target === '/data');
    expect(ops[i]).toMatchObject({ kind: 'mount', source: '/srv', flags: c.MS_BIND | c.MS_REC });
    expect(ops[i + 1]).toMatchObject({ kind: 'remount', target: '/data', flags: c.MS_NODEV });
    expect(ops[i + 2]).toEqual({ kind: 'mount_setattr', target: '/data', attrSet: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID, attrClear: 0, recursive: true });
    const etc = ops.find((op) => op.kind === 'mount' && op.target === '/etc');
    expect(etc).toMatchObject({ fstype: 'tmpfs', flags: MS_POSIXACL, data: 'mode=755', copyUp: true });
  });

  it('plans an idmapped bind as a tree the runtime prepares and the child attaches', () => {
    const mapping = [{ containerID: 0, hostID: 1000, size: 10 }];
    const plan = planContainer(
      input((spec) => {
        spec.mounts!.push({ destination: '/a', type: 'bind', source: 'data', options: ['rbind', 'ridmap', 'ro'], uidMappings: mapping, gidMappings: mapping });
      }),
    );
    const i = plan.ops.findIndex((op) => op.kind === 'move_mount');
    expect(plan.ops[i]).toMatchObject({ kind: 'move_mount', treeFd: -1, target: '/a', targetMode: 'in-root-mkdir' });
    expect(plan.ops[i + 1]).toMatchObject({ kind: 'remount', target: '/a', flags: c.MS_RDONLY });
    expect(plan.detachedMounts).toEqual([{ opIndex: i, source: '/b/data', recursive: true, idmap: { uidMappings: mapping, gidMappings: mapping, recursive: true } }]);
    expect(plan.ops.some((op) => op.kind === 'mount' && op.target === '/a')).toBe(false);
  });

  it("an idmap option without mappings takes the container's user namespace mappings", () => {
    const uid = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const plan = planContainer(
      input((spec) => {
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = uid;
        spec.linux!.gidMappings = uid;
        spec.mounts!.push({ destination: '/a', type: 'bind', source: '/srv', options: ['bind', 'idmap'] });
      }),
    );
    expect(plan.detachedMounts?.[0]).toMatchObject({ source: '/srv', recursive: false, idmap: { uidMappings: uid, gidMappings: uid, recursive: false } });
  });

  describe('without a mount namespace', () => {
    const bare = (mutate?: (spec: Spec) => void): ContainerPlanInput =>
      input((spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
        spec.mounts = [];
        delete spec.root!.readonly;
        delete spec.linux!.maskedPaths;
        delete spec.linux!.readonlyPaths;
        mutate?.(spec);
      });

    it('mounts nothing and chroots into the rootfs', () => {
      const plan = planContainer(bare());
      expect(plan.cloneFlags & c.CLONE_NEWNS).toBe(0);
      const touching = plan.ops.filter((op) => ['mount', 'remount', 'mknod', 'mask', 'readonly', 'pivot_root', 'move_chroot', 'enter_rootfs', 'mount_setattr', 'move_mount', 'symlink'].includes(op.kind));
      expect(touching).toEqual([]);
      expect(plan.ops.filter((op) => op.kind === 'chroot')).toEqual([{ kind: 'chroot', path: '/b/rootfs', chdir: true }]);
    });

    it('refuses what would change the host', () => {
      const refuse = (mutate: (spec: Spec) => void, path: string, options: Partial<ContainerPlanInput> = {}): void => {
        let error: unknown;
        try {
          planContainer({ ...bare(mutate), ...options });
        } catch (e) {
          error = e;
        }
        expect(error, path).toBeInstanceOf(SpecError);
        expect((error as SpecError).jsonPath).toBe(path);
      };
      refuse((spec) => (spec.mounts = [{ destination: '/proc', type: 'proc', source: 'proc' }]), 'mounts');
      refuse((spec) => (spec.root!.readonly = true), 'root.readonly');
      refuse((spec) => (spec.linux!.rootfsPropagation = 'private'), 'linux.rootfsPropagation');
      refuse((spec) => (spec.linux!.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3 }]), 'linux.devices');
      refuse((spec) => (spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }), 'linux.sysctl');
      refuse(() => {}, 'linux.namespaces', { noPivot: true });
    });
  });

  it('joins a mount namespace by path last, then sets up and pivots the rootfs inside it', () => {
    const plan = planContainer(
      input((spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: '/proc/77/ns/mnt' } : n));
      }),
    );
    expect(plan.cloneFlags & c.CLONE_NEWNS).toBe(0);
    const order = kinds(plan.ops);
    const setns = plan.ops.findIndex((op) => op.kind === 'setns');
    expect(plan.ops[setns]).toMatchObject({ path: '/proc/77/ns/mnt', nstype: c.CLONE_NEWNS });
    expect(setns).toBeLessThan(order.indexOf('enter_rootfs'));
    expect(order).toContain('pivot_root');
    expect(order).toContain('mask');
  });

  it('stops at the CreateHooks sync point for linux.netDevices, which the runtime moves there', () => {
    const ops = planContainer(input((spec) => (spec.linux!.netDevices = { dummy0: { name: 'eth1' } }))).ops;
    const sync = ops.findIndex((op) => op.kind === 'sync' && op.point === SyncPoint.CreateHooks);
    expect(sync).toBeGreaterThan(-1);
    expect(sync).toBeLessThan(kinds(ops).indexOf('pivot_root'));
    expect(planContainer(input()).ops.some((op) => op.kind === 'sync' && op.point === SyncPoint.CreateHooks)).toBe(false);
  });

  it('refuses a joined mount namespace with a new user namespace, which could not own it', () => {
    const plan = (): unknown =>
      planContainer(
        input((spec) => {
          spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: '/proc/77/ns/mnt' } : n));
          spec.linux!.namespaces!.push({ type: 'user' });
          spec.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
          spec.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
        }),
      );
    expect(plan).toThrow(/^linux\.namespaces\[4\]: a mount namespace joined by path cannot be set up from a new user namespace/);
  });

  it('installs a notifying filter before the start gate even with noNewPrivileges, others right before exec', () => {
    const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
    const notify = kinds(planContainer(input((spec) => (spec.linux!.seccomp = seccomp))).ops);
    expect(notify.indexOf('seccomp')).toBeLessThan(notify.indexOf('wait_gate'));
    const plain = kinds(planContainer(input((spec) => (spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' }))).ops);
    expect(plain.indexOf('seccomp')).toBe(plain.length - 2);
  });
});

describe('planExec', () => {
  it('joins user first and mount last, and forks into a joined pid namespace', () => {
    const spec = defaultSpec({ args: ['sh'], terminal: false });
    const plan = planExec({
      process: spec.process!,
      joins: [
        { type: 'mount', path: '/proc/9/ns/mnt' },
        { type: 'pid', path: '/proc/9/ns/pid' },
        { type: 'user', path: '/proc/9/ns/user' },
      ],
      lastCap: 40,
    });
    const setns = plan.ops.filter((op) => op.kind === 'setns').map((op) => (op as { what: string }).what);
    expect(setns).toEqual(['user', 'pid', 'mount']);
    expect(kinds(plan.ops)[kinds(plan.ops).indexOf('setns') + 3]).toBe('clone_sibling');
    expect(plan.cloneFlags).toBe(0);
  });
});

describe('process and container attributes', () => {
  it('makes the time namespace with unshare, writes its offsets, then enters it (never clone3)', () => {
    const plan = planContainer(input((spec) => {
      spec.linux!.namespaces!.push({ type: 'time' });
      spec.linux!.timeOffsets = { monotonic: { secs: 10 }, boottime: { secs: -5, nanosecs: 7 } };
    }));
    expect(plan.cloneFlags & c.CLONE_NEWTIME).toBe(0);
    const i = plan.ops.findIndex((op) => op.kind === 'unshare' && op.flags === c.CLONE_NEWTIME);
    expect(plan.ops.slice(i + 1, i + 3)).toEqual([
      { kind: 'write_file', path: '/proc/self/timens_offsets', content: 'monotonic 10 0\nboottime -5 7\n', create: false },
      { kind: 'setns', path: '/proc/self/ns/time_for_children', nstype: c.CLONE_NEWTIME, what: 'time' },
    ]);
    expect(i).toBeLessThan(kinds(plan.ops).indexOf('pivot_root'));
    // In a user namespace the write needs the child's /proc files to be its own: dumpable for that write only.
    const inUserNs = planContainer(input((spec) => {
      spec.linux!.namespaces!.push({ type: 'time' }, { type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      spec.linux!.timeOffsets = { boottime: { secs: 1 } };
    }));
    const w = inUserNs.ops.findIndex((op) => op.kind === 'write_file' && op.path === '/proc/self/timens_offsets');
    expect([inUserNs.ops[w - 1], inUserNs.ops[w + 1]]).toEqual([{ kind: 'dumpable', value: 1 }, { kind: 'dumpable', value: 0 }]);
  });

  it('refuses timeOffsets for a joined time namespace (its offsets are already fixed)', () => {
    expect(() =>
      planContainer(input((spec) => {
        spec.linux!.namespaces!.push({ type: 'time', path: '/proc/1/ns/time' });
        spec.linux!.timeOffsets = { boottime: { secs: 1 } };
      })),
    ).toThrow('linux.timeOffsets: cannot be applied to a joined time namespace');
  });

  it('sets scheduler, I/O priority, personality and memory policy while every capability is held', () => {
    const plan = planContainer(input((spec) => {
      spec.process!.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10, deadline: 20, period: 30, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
      spec.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      spec.linux!.personality = { domain: 'LINUX32' };
      spec.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0-2,5', flags: ['MPOL_F_STATIC_NODES'] };
      spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
      spec.process!.noNewPrivileges = false;
    }));
    const order = kinds(plan.ops);
    const find = <K extends PlanOp['kind']>(kind: K) => plan.ops.find((op) => op.kind === kind) as Extract<PlanOp, { kind: K }>;
    expect(find('sched_setattr')).toEqual({ kind: 'sched_setattr', policy: 6, flags: 1, nice: 0, priority: 0, runtime: 10, deadline: 20, period: 30 });
    expect(find('ioprio_set')).toEqual({ kind: 'ioprio_set', value: 3 << 13 });
    expect(find('personality')).toEqual({ kind: 'personality', persona: 8 });
    expect(find('set_mempolicy')).toEqual({ kind: 'set_mempolicy', mode: 3 | (1 << 15), nodes: [0, 1, 2, 5] });
    for (const kind of ['sched_setattr', 'ioprio_set', 'personality', 'set_mempolicy']) {
      expect(order.indexOf(kind), kind).toBeGreaterThan(order.indexOf('pivot_root'));
      expect(order.indexOf(kind), kind).toBeLessThan(order.indexOf('seccomp'));
      expect(order.indexOf(kind), kind).toBeLessThan(order.indexOf('bounding'));
    }
  });

  it('gives the pty its size, and the init\'s pty /dev/console', () => {
    const plan = planContainer(input((spec) => {
      spec.process!.terminal = true;
      spec.process!.consoleSize = { height: 24, width: 80 };
    }));
    expect(plan.ops.find((op) => op.kind === 'open_pty')).toEqual({ kind: 'open_pty', rows: 24, columns: 80, console: true });
    const exec = planExec({ process: { ...input().spec.process!, terminal: true }, joins: [], lastCap: 40 });
    expect(exec.ops.find((op) => op.kind === 'open_pty')).toEqual({ kind: 'open_pty', rows: 0, columns: 0, console: false });
  });

  it('exec: execCPUAffinity.initial before the cgroup is joined, final after', () => {
    const process = { ...input().spec.process!, execCPUAffinity: { initial: '0-1', final: '3' } };
    const ops = planExec({ process, joins: [], lastCap: 40 }).ops;
    const sync = ops.findIndex((op) => op.kind === 'sync' && op.point === SyncPoint.AfterClone);
    expect(ops[sync - 1]).toEqual({ kind: 'sched_setaffinity', cpus: [0, 1] });
    expect(ops[sync + 1]).toEqual({ kind: 'sched_setaffinity', cpus: [3] });
  });
});

describe('helpers', () => {
  it('parses mount options as runc does', () => {
    expect(parseMountOptions(['nosuid', 'noexec', 'mode=755', 'size=65536k', 'rw', 'rslave'], 'm')).toEqual({
      flags: c.MS_NOSUID | c.MS_NOEXEC,
      clearFlags: c.MS_RDONLY,
      propagation: [c.MS_SLAVE | c.MS_REC],
      data: 'mode=755,size=65536k',
      recursive: { set: 0, clear: 0 },
      idmap: null,
      tmpcopyup: false,
    });
  });

  it("parses the recursive attributes as runc's recAttrFlags, the access time as one field", () => {
    const A = MOUNT_ATTR;
    expect(parseMountOptions(['rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnosymfollow', 'rnodiratime'], 'm').recursive).toEqual({
      set: A.RDONLY | A.NOSUID | A.NODEV | A.NOEXEC | A.NOSYMFOLLOW | A.NODIRATIME,
      clear: 0,
    });
    expect(parseMountOptions(['rro', 'rrw', 'rsuid', 'rdev', 'rexec', 'rsymfollow', 'rdiratime'], 'm').recursive).toEqual({
      set: 0,
      clear: A.RDONLY | A.NOSUID | A.NODEV | A.NOEXEC | A.NOSYMFOLLOW | A.NODIRATIME,
    });
    expect(parseMountOptions(['rnoatime'], 'm').recursive).toEqual({ set: A.NOATIME, clear: A._ATIME });
    expect(parseMountOptions(['rnoatime', 'rstrictatime'], 'm').recursive).toEqual({ set: A.STRICTATIME, clear: A._ATIME });
    expect(parseMountOptions(['rnoatime', 'ratime'], 'm').recursive).toEqual({ set: A.RELATIME, clear: A._ATIME });
    expect(parseMountOptions(['rrelatime'], 'm').recursive).toEqual({ set: A.RELATIME, clear: A._ATIME });
    expect(parseMountOptions(['rstrictatime', 'rnorelatime'], 'm').recursive).toEqual({ set: A.STRICTATIME, clear: A._ATIME });
  });

  it('takes acl/noacl as MS_POSIXACL, idmap/ridmap and tmpcopyup as what they are, none as data', () => {
    expect(parseMountOptions(['acl', 'size=1k'], 'm')).toMatchObject({ flags: MS_POSIXACL, data: 'size=1k' });
    expect(parseMountOptions(['acl', 'noacl'], 'm')).toMatchObject({ flags: 0, clearFlags: MS_POSIXACL, data: null });
    expect(parseMountOptions(['ridmap'], 'm')).toMatchObject({ idmap: 'ridmap', data: null });
    expect(parseMountOptions(['tmpcopyup'], 'm')).toMatchObject({ tmpcopyup: true, data: null });
    expect(parseMountOptions(['tmpcopyup', 'notmpcopyup'], 'm')).toMatchObject({ tmpcopyup: false, data: null });
  });

  it('computes device numbers as glibc makedev does', () => {
    expect(makedev(1, 3)).toBe(0x103);
    expect(makedev(136, 2)).toBe(0x8802);
    expect(makedev(10, 300)).toBe(0x100a2c); // minor above 255: its high bits go to bit 20
  });
});
