import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { native } from '../native/index.js';

/** Where a process's pty master goes: runc's --console-socket, or a callback (attach it here). */
export interface ConsoleTarget {
  consoleSocket?: string;
  onConsole?: (masterFd: number) => void;
}

/** Hands the pty master the child sent to its target; owns the fd. */
export function deliverConsole(target: ConsoleTarget, masterFd: number): void {
  if (target.consoleSocket === undefined) {
    if (target.onConsole !== undefined) target.onConsole(masterFd);
    else native.closeRange(masterFd, masterFd);
    return;
  }
  try {
    native.sendFdToSocket(target.consoleSocket, masterFd);
  } finally {
    native.closeRange(masterFd, masterFd);
  }
}

/**
 * Attaches a container's pty master to this process's terminal (husk run with
 * process.terminal and no --console-socket): raw mode, both directions, and
 * the window size kept in step. Returns a function that drains what the
 * container wrote, then detaches.
 */
export function attachConsole(masterFd: number): () => Promise<void> {
  // Loaded here, not at the top: node:tty pulls in net and streams, which every
  // `husk run` without a terminal would pay for at start-up.
  const tty = createRequire(import.meta.url)('node:tty') as typeof import('node:tty');
  const output = new tty.ReadStream(masterFd);
  // Reading the master fails with EIO once every slave fd is closed: the end of output.
  const drained = new Promise<void>((resolve) => output.once('close', () => resolve()));
  output.on('error', () => {});
  output.pipe(process.stdout, { end: false });

  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  const onInput = (chunk: Buffer): void => {
    let offset = 0;
    while (offset < chunk.length) {
      try {
        offset += writeSync(masterFd, chunk, offset);
      } catch (error) {
        if ((error as { code?: string }).code !== 'EAGAIN') return;
      }
    }
  };
  stdin.on('data', onInput);
  const resize = (): void => {
    if (process.stdout.isTTY) {
      try {
        native.setWindowSize(masterFd, process.stdout.rows, process.stdout.columns);
      } catch {
        // the pty is gone
      }
    }
  };
  resize();
  process.stdout.on('resize', resize);

  return async () => {
    process.stdout.off('resize', resize);
    stdin.off('data', onInput);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
    // A process the container left holding the terminal must not keep us forever.
    await Promise.race([drained, new Promise((r) => setTimeout(r, 2000).unref())]);
    output.destroy();
  };
}
