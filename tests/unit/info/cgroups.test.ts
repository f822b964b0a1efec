import { describe, expect, it } from 'vitest';
import { describeCgroups } from '../../../src/info/cgroups.js';

const procCgroups = `#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t3\t1\t1
cpu\t1\t1\t1
cpuacct\t2\t1\t1
blkio\t7\t1\t1
memory\t4\t23\t1
devices\t5\t1\t1
freezer\t6\t1\t1
net_cls\t0\t1\t1
perf_event\t0\t1\t1
net_prio\t0\t1\t1
hugetlb\t0\t1\t1
pids\t8\t1\t1
`;

// our machines: v1 controllers each in its own hierarchy, cgroup2 at /sys/fs/cgroup/unified
const hybridMountinfo = `23 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

const hybridSelf = `9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
1:cpu:/
0::/
`;

describe('describeCgroups', () => {
  it('sees the hybrid layout: v1 hierarchies, cgroup2 beside them, own cgroups', () => {
    const report = describeCgroups({
      mountinfo: hybridMountinfo,
      procCgroups,
      selfCgroup: hybridSelf,
      readV2Controllers: (mountPoint) => (mountPoint === '/sys/fs/cgroup/unified' ? ['hugetlb'] : []),
    });
    expect(report.mode).toBe('hybrid');
    expect(report.v1.map((h) => h.controllers.join(','))).toEqual([
      'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd',
    ]);
    const memory = report.v1.find((h) => h.controllers.includes('memory'))!;
    expect(memory).toEqual({
      controllers: ['memory'],
      mountPoint: '/sys/fs/cgroup/memory',
      mountPoints: ['/sys/fs/cgroup/memory'],
      ownCgroup: '/process_api/abc',
    });
    expect(report.v1.find((h) => h.controllers.includes('devices'))!.ownCgroup).toBeUndefined();
    expect(report.v2).toEqual({ mountPoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'], ownCgroup: '/' });
  });

  it('sees pure v2, and ignores mount options that are not controllers', () => {
    const report = describeCgroups({
      mountinfo: '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n',
      procCgroups,
      selfCgroup: '0::/user.slice/session-1.scope\n',
      readV2Controllers: () => ['cpuset', 'cpu', 'io', 'memory', 'pids'],
    });
    expect(report).toEqual({
      mode: 'v2',
      v1: [],
      v2: { mountPoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'], ownCgroup: '/user.slice/session-1.scope' },
    });
  });

  it('groups co-mounted controllers and several mounts of one hierarchy (v1 only)', () => {
    const mountinfo = `25 23 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
26 23 0:23 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory,clone_children
27 40 0:22 /docker/x /container/cpu rw,relatime - cgroup cgroup rw,cpu,cpuacct
28 23 0:22 / /other/cpu rw,relatime - cgroup cgroup rw,cpuacct,cpu
`;
    const report = describeCgroups({
      mountinfo,
      procCgroups,
      selfCgroup: '3:cpuacct,cpu:/a\n2:memory:/b\n',
      readV2Controllers: () => [],
    });
    expect(report.mode).toBe('v1');
    expect(report.v2).toBeNull();
    expect(report.v1).toEqual([
      {
        controllers: ['cpu', 'cpuacct'],
        mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
        mountPoints: ['/sys/fs/cgroup/cpu,cpuacct', '/other/cpu', '/container/cpu'],
        ownCgroup: '/a',
      },
      { controllers: ['memory'], mountPoint: '/sys/fs/cgroup/memory', mountPoints: ['/sys/fs/cgroup/memory'], ownCgroup: '/b' },
    ]);
  });

  it('says none without any cgroup mount, and names a v2 host with only a named v1 hierarchy v2', () => {
    const none = describeCgroups({ mountinfo: hybridMountinfo.split('\n')[0]!, procCgroups: null, selfCgroup: null, readV2Controllers: () => [] });
    expect(none).toEqual({ mode: 'none', v1: [], v2: null });
    const named = describeCgroups({
      mountinfo:
        '30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n31 30 0:27 / /run/systemd-legacy rw - cgroup cgroup rw,name=systemd\n',
      procCgroups: null, // without /proc/cgroups the known controller names are used
      selfCgroup: null,
      readV2Controllers: () => ['memory'],
    });
    expect(named.mode).toBe('v2');
    expect(named.v1.map((h) => h.controllers)).toEqual([['name=systemd']]);
  });
});

describe('describeCgroups, own cgroups', () => {
  it('takes each own cgroup from its hierarchy line of /proc/self/cgroup; the v2 line has no controllers; paths may hold colons', () => {
    const report = describeCgroups({
      mountinfo: hybridMountinfo,
      procCgroups,
      selfCgroup: '4:memory:/a:b\n1:cpu:/c\n0::/\n',
      readV2Controllers: () => [],
    });
    expect(report.v1.find((h) => h.controllers.includes('memory'))!.ownCgroup).toBe('/a:b');
    expect(report.v1.find((h) => h.controllers.includes('cpu'))!.ownCgroup).toBe('/c');
    expect(report.v1.find((h) => h.controllers.includes('pids'))!.ownCgroup).toBeUndefined();
    expect(report.v2!.ownCgroup).toBe('/');
  });

  it('takes the unescaped mount point, and counts as controllers what /proc/cgroups names', () => {
    const mountinfo = '50 23 0:40 / /cg\\040v1/memory rw - cgroup cgroup rw,memory,debug,clone_children,xattr\n';
    const withDebug = describeCgroups({ mountinfo, procCgroups: 'memory\t4\t1\t1\ndebug\t5\t1\t1\n', selfCgroup: null, readV2Controllers: () => [] });
    expect(withDebug.v1).toEqual([{ controllers: ['memory', 'debug'], mountPoint: '/cg v1/memory', mountPoints: ['/cg v1/memory'] }]);
    const withoutDebug = describeCgroups({ mountinfo, procCgroups: 'memory\t4\t1\t1\n', selfCgroup: null, readV2Controllers: () => [] });
    expect(withoutDebug.v1.map((h) => h.controllers)).toEqual([['memory']]);
  });
});
