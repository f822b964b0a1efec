import { describe, expect, it } from 'vitest';
import { mountPointsUnder, parseMountInfo, unescapeMountinfo } from '../../../src/sys/mountinfo.js';

describe('parseMountInfo', () => {
  it('reads optional fields and unescapes paths', () => {
    const [entry] = parseMountInfo('36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
    expect(entry).toEqual({
      mountId: 36,
      parentId: 35,
      device: '98:0',
      root: '/mnt1',
      mountPoint: '/mnt two',
      options: ['rw', 'noatime'],
      fsType: 'ext3',
      source: '/dev/root',
      superOptions: ['rw', 'errors=continue'],
    });
  });

  it('reads a line without optional fields, and skips blank and malformed lines', () => {
    const entries = parseMountInfo('\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\ngarbage line\n42 1 0:1 / /x rw -\n');
    expect(entries.map((e) => [e.mountId, e.fsType, e.mountPoint])).toEqual([[41, 'cgroup2', '/sys/fs/cgroup/unified']]);
  });
});

describe('unescapeMountinfo', () => {
  it('decodes space, tab, newline and backslash', () => {
    expect(unescapeMountinfo('/a\\040b\\011c\\012d\\134e')).toBe('/a b\tc\nd\\e');
  });
});

describe('mountPointsUnder', () => {
  const entries = parseMountInfo(
    [
      '1 0 0:1 / / rw - ext4 /dev/vda rw',
      '2 1 0:2 / /tmp/lab rw - tmpfs tmpfs rw',
      '3 2 0:3 / /tmp/lab/rootfs/proc rw - proc proc rw',
      '4 1 0:4 / /tmp/labother rw - tmpfs tmpfs rw',
      '5 2 0:5 / /tmp/lab/with\\040space rw - tmpfs tmpfs rw',
    ].join('\n'),
  );

  it('lists the directory itself and what lies below it, in table order, not a sibling sharing the prefix', () => {
    expect(mountPointsUnder(entries, '/tmp/lab')).toEqual(['/tmp/lab', '/tmp/lab/rootfs/proc', '/tmp/lab/with space']);
    expect(mountPointsUnder(entries, '/tmp/lab/')).toEqual(['/tmp/lab/rootfs/proc', '/tmp/lab/with space']);
    expect(mountPointsUnder(entries, '/nowhere')).toEqual([]);
  });
});
