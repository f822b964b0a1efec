/**
 * The state store against other processes: a lock held elsewhere never blocks
 * this (long-lived, API) process's event loop; a lock on a directory that was
 * replaced meanwhile does not count; a file planted at a temp name is not
 * followed; the state root is 0700.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { constants, native } from '../../../src/native/index.js';
import { StateStore } from '../../../src/runtime/state.js';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();
const scratch = mkdtempSync(join(tmpdir(), 'husk-state-'));
const holders = new Set<ChildProcess>();
afterAll(() => {
  for (const holder of holders) process.kill(-holder.pid!, 'SIGKILL'); // a failed test's own
  rmSync(scratch, { recursive: true, force: true });
});

/** `flock DIR sleep`: holds flock(2) on the directory from another process group until killed. */
async function holdLock(dir: string): Promise<ChildProcess> {
  const holder = spawn('flock', [dir, 'sleep', '60'], { stdio: 'ignore', detached: true });
  holders.add(holder);
  // Held once our own non-blocking try fails.
  const fd = openSync(dir, 'r');
  try {
    for (let i = 0; native.flock(fd, constants.LOCK_EX | constants.LOCK_NB); i++) {
      native.flock(fd, constants.LOCK_UN);
      if (i > 1000) throw new Error(`flock ${dir} did not take the lock`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    closeSync(fd);
  }
  return holder;
}

async function release(holder: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => holder.on('exit', resolve));
  process.kill(-holder.pid!, 'SIGKILL'); // flock and its sleep, which holds the lock too
  await gone;
  holders.delete(holder);
}

function newStore(): { store: StateStore; id: string } {
  const root = mkdtempSync(join(scratch, 'root-'));
  const store = new StateStore(root);
  const id = `c${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(store.dir(id));
  return { store, id };
}

describe('the state lock', () => {
  it('waits for a lock held by another process without blocking the event loop', async () => {
    const { store, id } = newStore();
    const holder = await holdLock(store.dir(id));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    let ran = false;
    const locked = store.withLock(id, async () => {
      ran = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ran).toBe(false); // the other process still holds it
    expect(ticks).toBeGreaterThan(10); // and this process went on meanwhile
    await release(holder);
    await locked;
    clearInterval(ticker);
    expect(ran).toBe(true);
  });

  it('does not count a lock on a directory that was removed and made again meanwhile', async () => {
    const { store, id } = newStore();
    const oldHolder = await holdLock(store.dir(id));
    let ran = false;
    const locked = store.withLock(id, async () => {
      ran = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // delete + create of the same id, by others: the new directory is locked by its creator. It is
    // locked before it appears at the path (made aside, renamed into place), or withLock's next try
    // could take it first.
    const replacement = `${store.dir(id)}.new`;
    mkdirSync(replacement);
    const newHolder = await holdLock(replacement);
    rmSync(store.dir(id), { recursive: true });
    renameSync(replacement, store.dir(id));
    await release(oldHolder);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ran).toBe(false); // the lock it got was the old directory's: it tried again
    await release(newHolder);
    await locked;
    expect(ran).toBe(true);
  });

  it('says who holds it when it does not come within the timeout', async () => {
    const { store, id } = newStore();
    const holder = await holdLock(store.dir(id));
    try {
      await expect(store.withLock(id, async () => {}, 200)).rejects.toThrow(`container "${id}" is locked by another husk process`);
    } finally {
      await release(holder);
    }
  });
});

describe('state files', () => {
  it('does not follow a file planted at the temp name of state.json', () => {
    const { store, id } = newStore();
    const victim = join(scratch, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(store.dir(id), 'state.json.tmp'));
    store.write({ ociVersion: '1.2.0', id, phase: 'creating', bundle: '/b', rootfs: '/b/rootfs', created: new Date().toISOString() });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(JSON.parse(readFileSync(join(store.dir(id), 'state.json'), 'utf8'))).toMatchObject({ id });
  });

  it('makes the state root 0700, as runc does', async () => {
    const bundle = await makeTestBundle({ args: ['true'] });
    bundles.push(bundle);
    const root = join(husk.root, 'fresh-root');
    expect(existsSync(root)).toBe(false);
    const id = newId('root');
    const result = await husk.run(['--root', root, 'run', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(statSync(root).mode & 0o777).toBe(0o700);
  });
});
