/**
 * The escape lab for real, as root: the weak jails really are escaped (the
 * marker's random secret is read back from inside them), husk's jails hold
 * against every attempt, the JSON report keeps its shape, and nothing is left
 * behind (no mount, no directory).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempts, configurations, type EscapeLabReport, type EscapeResult, labExitCode, mountsUnder, runEscapeLab } from '../../src/lab/index.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const tsxLoader = createRequire(import.meta.url).resolve('tsx');
const cli = ['--import', tsxLoader, join(repoRoot, 'src', 'cli.ts')];

let baseDir: string;
let report: EscapeLabReport;

function row(configuration: string, attempt: string): EscapeResult {
  const found = report.results.find((r) => r.configuration === configuration && r.attempt === attempt);
  if (found === undefined) throw new Error(`no row ${configuration} x ${attempt}`);
  return found;
}

beforeAll(async () => {
  expect(process.geteuid?.(), 'the escape lab tests run as root').toBe(0);
  baseDir = mkdtempSync('/tmp/husk-lab-test-');
  report = await runEscapeLab({ baseDir });
});

afterAll(() => {
  if (baseDir !== undefined && mountsUnder(baseDir).length === 0) rmSync(baseDir, { recursive: true, force: true });
});

describe('husk escape-lab', () => {
  it('every row ran (no lab error)', () => {
    expect(report.results.filter((r) => r.outcome === 'error')).toEqual([]);
    expect(report.results).toHaveLength(configurations.length * attempts.length);
  });

  it('escapes a bare chroot with the classic attempt: the secret is read back', () => {
    const r = row('chroot', 'classic');
    expect(r.outcome).toBe('escaped');
    expect(r.secretReadBack).toBe(report.secret);
    expect(report.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(r.step).toBe('chroot-dotdot');
  });

  it('holds the classic attempt with EPERM once CAP_SYS_CHROOT is dropped', () => {
    const r = row('chroot-no-cap', 'classic');
    expect(r).toMatchObject({ outcome: 'held', errno: 'EPERM', step: 'chroot-subdir' });
    expect(r.secretReadBack).toBeUndefined();
  });

  it.each(['pivot-root', 'container'])('configuration %s holds against every attempt', (configuration) => {
    const rows = report.results.filter((r) => r.configuration === configuration);
    expect(rows.map((r) => r.attempt)).toEqual(attempts.map((a) => a.id));
    for (const r of rows) {
      expect(r.outcome, `${configuration} x ${r.attempt}: ${r.why}`).toBe('held');
      expect(r.errno).toMatch(/^E[A-Z0-9]+$/);
    }
    expect(report.defaultEscaped).toBe(false);
    expect(labExitCode(report)).toBe(0);
  });

  it('shows what each weakness lets through (the lab measures, not assumes)', () => {
    // a leaked fd gets out of any jail, pivot_root included, unless the runtime closes it
    expect(row('chroot-no-cap', 'leaked-fd').outcome).toBe('escaped');
    expect(row('pivot-root-open-fds', 'leaked-fd').outcome).toBe('escaped');
    expect(row('pivot-root', 'leaked-fd')).toMatchObject({ outcome: 'held', errno: 'EBADF' });
    // the host's tree beneath a --no-pivot rootfs is reachable once the rootfs mount is detached
    expect(row('no-pivot', 'mount-ns').outcome).toBe('escaped');
    expect(row('pivot-root', 'mount-ns')).toMatchObject({ outcome: 'held', errno: 'ENOENT', step: 'open-marker' });
    // a procfs of the host's pid namespace is a way out for root with CAP_SYS_ADMIN
    expect(row('chroot-no-cap', 'proc-root').outcome).toBe('escaped');
    for (const r of report.results.filter((x) => x.outcome === 'escaped')) expect(r.secretReadBack).toBe(report.secret);
  });

  it('leaves nothing behind: no mount under the lab, its directory removed', () => {
    expect(mountsUnder(baseDir)).toEqual([]);
    expect(readdirSync(baseDir)).toEqual([]);
    expect(report.cleanup).toEqual([]);
    // every probe child was reaped: this process has no child left (a zombie would still be listed)
    expect(readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim()).toBe('');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('husk-escape-lab-');
  });

  it('prints a stable JSON report from the CLI and exits 0', async () => {
    const cliBase = mkdtempSync('/tmp/husk-lab-cli-');
    try {
      const result = await execa('node', [...cli, 'escape-lab', '--format', 'json'], { env: { TMPDIR: cliBase }, reject: false });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      const json = JSON.parse(result.stdout) as EscapeLabReport;
      expect(Object.keys(json).sort()).toEqual(
        ['attempts', 'cleanup', 'configurations', 'defaultEscaped', 'kernel', 'marker', 'results', 'rootfs', 'secret', 'version'].sort(),
      );
      expect(json.version).toBe(1);
      expect(json.marker.startsWith(cliBase + '/')).toBe(true);
      expect(json.rootfs.startsWith(cliBase + '/')).toBe(true);
      expect(json.marker.startsWith(json.rootfs)).toBe(false);
      expect(json.configurations.map((c) => [c.number, c.id, c.isDefault])).toEqual([
        [1, 'chroot', false],
        [2, 'chroot-no-cap', false],
        [3, 'no-pivot', false],
        [4, 'pivot-root', true],
        [5, 'container', true],
        [6, 'pivot-root-open-fds', false],
      ]);
      expect(json.attempts.map((a) => a.id)).toEqual(['classic', 'leaked-fd', 'proc-root', 'mount-ns']);
      for (const r of json.results) {
        expect(['escaped', 'held', 'error']).toContain(r.outcome);
        expect(typeof r.why).toBe('string');
        expect(r.explanation.length).toBeGreaterThan(r.why.length);
        if (r.outcome === 'held') expect(Object.keys(r).sort()).toEqual(['attempt', 'configuration', 'errno', 'explanation', 'outcome', 'step', 'why']);
        if (r.outcome === 'escaped') expect(r.secretReadBack).toBe(json.secret);
      }
      expect(readdirSync(cliBase).filter((n) => n.startsWith('husk-escape-lab-'))).toEqual([]); // (tsx keeps its cache there)
      expect(mountsUnder(cliBase)).toEqual([]);
    } finally {
      rmSync(cliBase, { recursive: true, force: true });
    }
  });

  it('--explain says what the kernel does, per configuration and row', async () => {
    const cliBase = mkdtempSync('/tmp/husk-lab-cli-');
    try {
      const result = await execa('node', [...cli, 'escape-lab', '--explain'], { env: { TMPDIR: cliBase }, reject: false });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('(4) pivot_root, old root detached');
      expect(result.stdout).toContain('chroot(2) changes one pointer of the process');
      expect(result.stdout).toMatch(/classic: ESCAPED \(read secret [0-9a-f]{8}…\)/);
      expect(result.stdout).toContain('(4) and (5) held against every attempt.');
      expect(readdirSync(cliBase).filter((n) => n.startsWith('husk-escape-lab-'))).toEqual([]); // (tsx keeps its cache there)
    } finally {
      rmSync(cliBase, { recursive: true, force: true });
    }
  });
});
