import { exitStatusCode } from '../runtime/child.js';
import { attachConsole } from '../runtime/console.js';
import { execInContainer, type ExecOptions } from '../runtime/exec.js';
import { writePidFile } from '../runtime/pid-file.js';
import { readFileSync } from 'node:fs';
import { type Command, UsageError } from './command.js';
import { runtimeOptions } from './runtime-options.js';

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export const command: Command = {
  name: 'exec',
  summary: 'run a new process in a running container',
  usage: '<container-id> COMMAND [ARG...]',
  minArgs: 1,
  passThroughAfterFirst: true,
  options: [
    { name: 'tty', short: 't', type: 'boolean', summary: 'give the process a terminal (attached here unless --console-socket)' },
    { name: 'env', short: 'e', type: 'list', value: 'KEY=VALUE', summary: 'set an environment variable (repeatable)' },
    { name: 'cwd', type: 'string', value: 'DIR', summary: 'working directory in the container' },
    { name: 'user', short: 'u', type: 'string', value: 'UID[:GID]', summary: 'run as this user' },
    { name: 'additional-gids', short: 'g', type: 'list', value: 'GID', summary: 'additional group (repeatable)' },
    { name: 'process', short: 'p', type: 'string', value: 'FILE', summary: 'a process.json to run instead of COMMAND' },
    { name: 'detach', short: 'd', type: 'boolean', summary: 'return once the process has started' },
    { name: 'pid-file', type: 'string', value: 'FILE', summary: "write the process's pid to FILE" },
    { name: 'console-socket', type: 'string', value: 'PATH', summary: 'unix socket that receives the pty master' },
    { name: 'no-new-privs', type: 'boolean', summary: 'set no_new_privs for the process' },
    { name: 'preserve-fds', type: 'number', value: 'N', summary: 'pass N extra fds (3, 4, ...) to the process' },
  ],
  async run({ global, args, opts }) {
    const [id, ...commandLine] = args as [string, ...string[]];
    if (commandLine.length === 0 && opts['process'] === undefined) throw new UsageError('exec: give a COMMAND or --process FILE');
    const options: ExecOptions = { args: commandLine, preserveFds: (opts['preserve-fds'] as number | undefined) ?? 0 };
    if (opts['env'] !== undefined) options.env = opts['env'] as string[];
    if (opts['cwd'] !== undefined) options.cwd = opts['cwd'] as string;
    if (opts['tty']) options.tty = true;
    if (opts['no-new-privs']) options.noNewPrivileges = true;
    if (opts['process'] !== undefined) options.process = JSON.parse(readFileSync(opts['process'] as string, 'utf8'));
    if (opts['user'] !== undefined) {
      const [uid, gid] = (opts['user'] as string).split(':').map(Number);
      if (!Number.isInteger(uid) || (gid !== undefined && !Number.isInteger(gid))) throw new UsageError('--user takes UID[:GID] as numbers');
      options.user = { uid: uid!, gid: gid ?? 0, additionalGids: ((opts['additional-gids'] as string[] | undefined) ?? []).map(Number) };
    }
    let detachConsole: (() => Promise<void>) | undefined;
    if (opts['console-socket'] !== undefined) options.consoleSocket = opts['console-socket'] as string;
    else options.onConsole = (fd) => (detachConsole = attachConsole(fd));

    const child = await execInContainer(runtimeOptions(global), id, options);
    // Forwarding first: whoever reads the pid file may signal us at once.
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    if (!opts['detach']) for (const signal of forwarded) process.on(signal, forward);
    if (opts['pid-file'] !== undefined) writePidFile(opts['pid-file'] as string, child.pid);
    if (opts['detach']) return 0;
    const exit = await child.wait();
    for (const signal of forwarded) process.off(signal, forward);
    await detachConsole?.();
    return exitStatusCode(exit);
  },
};
