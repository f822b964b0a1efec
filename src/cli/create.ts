import { createContainer, type CreateOptions } from '../runtime/container.js';
import { listenFdsOf } from '../runtime/notify.js';
import type { Command, CommandContext, OptionSpec } from './command.js';
import { runtimeOptions } from './runtime-options.js';

/** The flags `create` and `run` share, as runc has them. */
export const createFlags: OptionSpec[] = [
  { name: 'pid-file', type: 'string', value: 'FILE', summary: "write the container init's pid to FILE" },
  { name: 'console-socket', type: 'string', value: 'PATH', summary: 'unix socket that receives the pty master (process.terminal)' },
  { name: 'no-pivot', type: 'boolean', summary: 'MS_MOVE + chroot instead of pivot_root (weaker: see husk escape-lab)' },
  { name: 'preserve-fds', type: 'number', value: 'N', summary: 'pass N extra fds (3, 4, ...) to the container' },
  { name: 'no-new-keyring', type: 'boolean', summary: 'accepted for runc compatibility (husk creates no keyring)' },
];

/** What the shared flags ask of createContainer. */
export function fromCreateFlags(opts: CommandContext['opts']): Pick<CreateOptions, 'pidFile' | 'consoleSocket' | 'noPivot' | 'preserveFds'> {
  return {
    ...(opts['pid-file'] !== undefined && { pidFile: opts['pid-file'] as string }),
    ...(opts['console-socket'] !== undefined && { consoleSocket: opts['console-socket'] as string }),
    noPivot: Boolean(opts['no-pivot']),
    preserveFds: (opts['preserve-fds'] as number | undefined) ?? 0,
  };
}

/** What systemd passes through the environment, as runc reads it: NOTIFY_SOCKET, LISTEN_FDS. */
export function fromSystemdEnvironment(): Pick<CreateOptions, 'notifySocket' | 'listenFds'> {
  const notifySocket = process.env['NOTIFY_SOCKET'];
  const listenFds = listenFdsOf(process.env, process.pid);
  return { ...(notifySocket !== undefined && notifySocket !== '' && { notifySocket }), ...(listenFds > 0 && { listenFds }) };
}

export const command: Command = {
  name: 'create',
  summary: 'create a container from a bundle; its process waits for `husk start`',
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'bundle', short: 'b', type: 'string', value: 'DIR', summary: 'the bundle directory (default: the current directory)' },
    ...createFlags,
  ],
  async run({ global, args, opts }) {
    await createContainer(runtimeOptions(global), {
      id: args[0]!,
      bundle: (opts['bundle'] as string | undefined) ?? '.',
      ...fromCreateFlags(opts),
      ...fromSystemdEnvironment(),
    });
    return 0;
  },
};
