import { describe, expect, it } from 'vitest';
import { buildTree, treeRows, type TreeEntry } from '../../../src/ps/tree.js';
import { layoutPsTable } from '../../../src/ps/format.js';

const entry = (pid: number, ppid: number, command: string, nsPid: number | null = pid): TreeEntry => ({
  pid,
  ppid,
  nsPid,
  uid: 0,
  user: 'root',
  state: 'S',
  command,
});

describe('buildTree', () => {
  it('puts a shell at the root with its children in pid order', () => {
    const children = Array.from({ length: 10 }, (_, i) => entry(1010 - i, 1000, 'sleep 300', 10 - i + 1));
    const roots = buildTree([...children, entry(1000, 999, 'sh -c ...', 1)]);
    expect(roots).toHaveLength(1);
    expect(roots[0]!.pid).toBe(1000);
    expect(roots[0]!.nsPid).toBe(1);
    expect(roots[0]!.children.map((c) => c.pid)).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010]);
    expect(roots[0]!.children.every((c) => c.children.length === 0)).toBe(true);
  });

  it('makes every process whose parent is outside the set a root', () => {
    const roots = buildTree([entry(5, 1, 'a'), entry(9, 2, 'b'), entry(6, 5, 'c'), entry(7, 6, 'd')]);
    expect(roots.map((r) => r.pid)).toEqual([5, 9]);
    expect(roots[0]!.children[0]!.children[0]!.pid).toBe(7);
  });

  it('does not lose processes whose parent links loop', () => {
    const roots = buildTree([entry(1, 0, 'init'), entry(20, 21, 'x'), entry(21, 20, 'y')]);
    const all: number[] = [];
    const walk = (n: { pid: number; children: { pid: number; children: never[] }[] }): void => {
      all.push(n.pid);
      n.children.forEach(walk as never);
    };
    roots.forEach(walk as never);
    expect(all.sort((a, b) => a - b)).toEqual([1, 20, 21]);
  });

  it('does not make a process its own child', () => {
    const roots = buildTree([entry(1, 1, 'self')]);
    expect(roots.map((r) => [r.pid, r.children.length])).toEqual([[1, 0]]);
  });
});

describe('tree text', () => {
  it('indents commands like ps --forest, with host and namespace pids', () => {
    const roots = buildTree([
      entry(100, 50, 'sh', 1),
      entry(101, 100, 'sub', 2),
      entry(102, 101, 'leaf', 3),
      entry(105, 100, 'last', 4),
      entry(106, 105, 'deep', 5),
    ]);
    expect(treeRows(roots).map((r) => r[4])).toEqual(['sh', ' \\_ sub', ' |   \\_ leaf', ' \\_ last', '     \\_ deep']);
    const text = layoutPsTable({ titles: ['PID', 'NSPID', 'USER', 'S', 'COMMAND'], processes: treeRows(roots) }, { pidWidth: 5 });
    expect(text.split('\n').slice(0, 3)).toEqual([
      '  PID NSPID USER     S COMMAND',
      '  100     1 root     S sh',
      '  101     2 root     S  \\_ sub',
    ]);
  });

  it('shows "-" without NSpid and cuts long user names like ps', () => {
    const roots = buildTree([{ ...entry(7, 1, 'x', null), uid: 997, user: 'systemd-timesync' }]);
    expect(treeRows(roots)).toEqual([['7', '-', 'systemd+', 'S', 'x']]);
  });
});
