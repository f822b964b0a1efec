/**
 * CVE-2019-5736, as an attacker writes it against husk: the process husk makes is a
 * clone of Node, so a container program started as /proc/self/exe (args[0], or the
 * #! interpreter of a script husk exec runs) would be the host's node binary, running
 * attacker code inside the container; it keeps an fd of that binary and, once no
 * husk process runs it any more, reopens it for writing through /proc/self/fd/N.
 * Here husk runs on a private copy of node (so "no process runs it" can happen while
 * the test's own node runs), and that copy must come out unchanged.
 *
 * Also: the process husk makes never shows husk's command line in /proc/<pid>/cmdline.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle, makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();

const scratch = mkdtempSync(join(tmpdir(), 'husk-cve-2019-5736-'));
const nodeCopy = join(scratch, 'node');
copyFileSync(process.execPath, nodeCopy);
chmodSync(nodeCopy, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const nodeSum = sha256(nodeCopy);

/** husk, run by the private node copy. Its stdio are files: a container left running (run -d) keeps them. */
let outputs = 0;
async function huskOnCopy(args: string[]): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const base = join(scratch, `out-${outputs++}`);
  const out = openSync(`${base}.stdout`, 'w');
  const err = openSync(`${base}.stderr`, 'w');
  const child = spawn(nodeCopy, [cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exitCode, stdout: readFileSync(`${base}.stdout`, 'utf8'), stderr: readFileSync(`${base}.stderr`, 'utf8') };
}

/**
 * The attacker's code, for when it runs inside the host's node: take an O_PATH fd of
 * /proc/self/exe, hand it to a detached shell and leave; the shell retries opening it
 * for writing until no process executes the binary (ETXTBSY) any more.
 */
const payload = (log: string): string => `
const { spawn } = require('child_process');
const fd = require('fs').openSync('/proc/self/exe', 0o10000000 /* O_PATH */);
const retry = 'for i in $(seq 1 100); do if printf pwned > /proc/self/fd/3; then echo written; exit 0; fi; sleep 0.1; done 2>>${log}; echo refused';
spawn('/bin/sh', ['-c', retry + ' >> ${log}'], { stdio: ['ignore', 'ignore', 'ignore', fd], detached: true }).unref();
`;

describe('the runtime binary is out of reach (CVE-2019-5736)', () => {
  it('a container program started as /proc/self/exe is not the host node binary', async () => {
    const bundle = await makeHostToolsBundle({ args: ['/proc/self/exe', '-e', 'console.log("node ran:", process.version)'] });
    bundles.push(bundle);
    const id = newId('selfexe');
    const result = await huskOnCopy(['run', '--bundle', bundle.dir, id]);
    expect(result.stdout).not.toContain('node ran'); // before: "node ran: v20..."
    expect(result.stderr).toContain("husk-exec: this is husk's sealed exec helper, not a program to run");
    expect(result.exitCode).toBe(127);
    expect(sha256(nodeCopy)).toBe(nodeSum);
    husk.expectGone(id);
  });

  it('a #!/proc/self/exe script that husk exec runs holds no fd of the host binary to write through', async () => {
    const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', 'sleep 300'] });
    bundles.push(bundle);
    // The image's own file, as the CVE's /bin/sh: a script whose interpreter is /proc/self/exe.
    const log = '/dev/shm/attack.log';
    writeFileSync(join(bundle.rootfs, 'payload'), `#!/proc/self/exe\n${payload(log)}`);
    chmodSync(join(bundle.rootfs, 'payload'), 0o755);
    const id = newId('shebang');
    expect((await huskOnCopy(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const exec = await huskOnCopy(['exec', id, '/payload']);
    expect(exec.stderr).toContain("husk-exec: this is husk's sealed exec helper, not a program to run");
    expect(exec.exitCode).toBe(127);
    // No husk process runs the copy any more: give a planted shell the time to try (it tries for 10 s).
    await new Promise((r) => setTimeout(r, 1500));
    const attack = await husk.run(['exec', id, '/bin/sh', '-c', `cat ${log} 2>/dev/null; true`]);
    expect(String(attack.stdout)).not.toContain('written');
    expect(sha256(nodeCopy)).toBe(nodeSum); // before: "pwned"
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('the process husk exec joins with is never a host file, even to a container root that catches it', async () => {
    // The container's root watches for new processes and tries to keep their /proc/<pid>/exe
    // open for writing (the CVE's other form): it gets the sealed helper at most, and no write.
    const watcher = `
      seen=" $$ "
      while :; do
        for d in /proc/[0-9]*; do
          p=\${d#/proc/}
          case "$seen" in *" $p "*) continue;; esac
          seen="$seen$p "
          t=$(readlink $d/exe 2>/dev/null) || continue
          case "$t" in /bin/*|/usr/*) continue;; esac
          if (exec 2>/dev/null 4<$d/exe && printf x 1<>/proc/self/fd/4); then echo "written $t"; else echo "refused $t"; fi >> /dev/shm/watch.log
        done
      done`;
    const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', watcher] });
    bundles.push(bundle);
    const id = newId('watch');
    expect((await huskOnCopy(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    for (let i = 0; i < 8; i++) expect((await huskOnCopy(['exec', id, '/bin/true'])).exitCode).toBe(0);
    const log = String((await husk.run(['exec', id, '/bin/sh', '-c', 'cat /dev/shm/watch.log 2>/dev/null; true'])).stdout);
    expect(log).not.toContain('written');
    expect(log).not.toContain(nodeCopy);
    expect(sha256(nodeCopy)).toBe(nodeSum);
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('reports what the final exec could not run (ENOEXEC), as a direct exec would', async () => {
    const bundle = await makeTestBundle({ args: ['true'], files: { 'bin/garbage': 'not a program\n' } });
    bundles.push(bundle);
    chmodSync(join(bundle.rootfs, 'bin', 'garbage'), 0o755);
    await bundle.updateSpec((spec) => (spec.process!.args = ['/bin/garbage']));
    const id = newId('enoexec');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(String(result.stderr)).toContain('husk: exec /bin/garbage: ENOEXEC (Exec format error)');
    expect(result.exitCode).toBe(127);
    expect(result.exitCode).not.toBe(0);
    husk.expectGone(id);
  });
});

describe("husk's command line stays out of the container", () => {
  it('the init waiting at its start gate shows "husk init", not husk\'s arguments', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('cmdline');
    expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const { pid } = await husk.state(id);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(husk.root); // before: node .../dist/cli.js --root /run/husk-test-... create ...
    expect(cmdline).not.toContain(id);
    expect(cmdline.replace(/\0+$/, '')).toBe('husk init');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('the init is husk-init from a sealed memfd, with nothing of Node in its memory or environment', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('init-image');
    expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const { pid } = await husk.state(id);
    // Before husk-init, the init was a clone of Node until its last exec: node's binary and heap were mapped.
    expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:husk-init( \(deleted\))?$/);
    const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
    expect(maps).not.toContain(realpathSync(process.execPath));
    expect(maps).not.toMatch(/\.node\b/); // no addon
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).toBe('');
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('husk init');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});
