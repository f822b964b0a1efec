/** Printing helpers shared by the verbs, and how the CLI exits. */
import { writeSync } from 'node:fs';
import { addonLoaded, loadAddon } from '../native/index.js';

/** Writes and waits until the data is handed to the OS (so exit codes follow output). */
export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

/**
 * Prints `text` on stdout (fd 1) or stderr (fd 2) with synchronous writes, without
 * making process.stdout or process.stderr (for a pipe that loads node:net and its
 * streams). Only where the fd is non-blocking and full (EAGAIN) does the rest go
 * through the stream.
 */
export function printTo(fd: 1 | 2, text: string): Promise<void> {
  const data = Buffer.from(text);
  let done = 0;
  try {
    while (done < data.length) done += writeSync(fd, data, done);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EAGAIN') throw error;
    return write(fd === 1 ? process.stdout : process.stderr, data.subarray(done).toString());
  }
  return Promise.resolve();
}

export function printOut(text: string): Promise<void> {
  return printTo(1, text);
}

export function printJson(value: unknown): Promise<void> {
  return printOut(JSON.stringify(value, null, 2) + '\n');
}

/** process.stdout and process.stderr as far as they were made (first use of either makes it). */
const opened: NodeJS.WriteStream[] = [];
/** Whether process.stdin was made (a pty relay puts it in raw mode). */
let stdinMade = false;

/**
 * Notes process.stdin, process.stdout and process.stderr when something first uses them, so
 * that exiting (exitWhenFlushed) waits for their pending writes, and knows whether Node may have
 * changed the terminal or the fds' flags, without making them.
 */
export function noteStdioStreams(): void {
  for (const name of ['stdin', 'stdout', 'stderr'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name);
    const get = descriptor?.get;
    if (get === undefined || descriptor?.configurable !== true) continue;
    Object.defineProperty(process, name, {
      ...descriptor,
      get() {
        const stream = get.call(process) as NodeJS.WriteStream;
        if (name === 'stdin') stdinMade = true;
        else if (!opened.includes(stream)) opened.push(stream);
        return stream;
      },
    });
  }
}

/**
 * Exits with `code` as soon as what was written to stdout and stderr is handed to
 * the OS: nothing else the verb left (a timer, an unreferenced handle) is waited for.
 */
export function exitWhenFlushed(code: number): void {
  if (opened.every((stream) => stream.writableLength === 0)) exitNow(code);
  setTimeout(() => exitWhenFlushed(code), 1);
}

/**
 * process.exit, or where that is safe its own steps (the exit code, the 'exit' event) and then
 * _exit(2): Node's teardown (the V8 heap, the platform's threads joined, static destructors) is
 * about 4 ms of every command and none of it is husk's work. Safe means: the addon is loaded
 * already (loading it only for this costs what it saves), and no stdio stream was made, so Node
 * has changed neither the terminal's mode nor the fds' flags (its exit restores those) and
 * everything written went out through synchronous writes (printTo).
 */
function exitNow(code: number): never {
  if (opened.length > 0 || stdinMade || !addonLoaded()) process.exit(code);
  process.exitCode = code;
  process.emit('exit', code);
  return loadAddon().exitNow(code);
}
