import { openSync } from 'node:fs';
import { createContainer, type CreateOptions } from '../runtime/container.js';
import { listenFdsOf } from '../runtime/notify.js';
import type { ImageRunOptions } from '../runtime/image-spec.js';
import { type Command, type CommandContext, type OptionSpec, UsageError } from './command.js';
import { runtimeOptions } from './runtime-options.js';

/** The flags `create` and `run` share, as runc has them. */
export const createFlags: OptionSpec[] = [
  { name: 'pid-file', type: 'string', value: 'FILE', summary: "write the container init's pid to FILE" },
  { name: 'console-socket', type: 'string', value: 'PATH', summary: 'unix socket that receives the pty master (process.terminal)' },
  { name: 'no-pivot', type: 'boolean', summary: 'MS_MOVE + chroot instead of pivot_root (weaker: see husk escape-lab)' },
  { name: 'preserve-fds', type: 'number', value: 'N', summary: 'pass N extra fds (3, 4, ...) to the container' },
  { name: 'no-new-keyring', type: 'boolean', summary: 'keep the caller\'s session keyring (default: a new one, "_ses.ID")' },
];

/** The flags of a container made from an image (create and run --image). */
export const imageFlags: OptionSpec[] = [
  { name: 'image', type: 'string', value: 'IMAGE', summary: 'make the rootfs an overlay of this image of the store (husk images)' },
  { name: 'entrypoint', type: 'string', value: 'CMD', summary: "with --image: replace the image's Entrypoint (\"\" clears it)" },
  { name: 'env', short: 'e', type: 'list', value: 'K=V', summary: 'with --image: set an environment variable (K alone: from ours)' },
  { name: 'env-file', type: 'list', value: 'FILE', summary: 'with --image: K=V lines to add to the environment' },
  { name: 'volume', short: 'v', type: 'list', value: 'HOST:CTR[:ro]', summary: 'with --image: bind HOST at CTR' },
  { name: 'workdir', short: 'w', type: 'string', value: 'DIR', summary: "with --image: the working directory (default: the image's)" },
  { name: 'user', short: 'u', type: 'string', value: 'USER[:GROUP]', summary: "with --image: run as USER (names from the image's /etc/passwd)" },
  { name: 'hostname', type: 'string', value: 'NAME', summary: 'with --image: the hostname (default: the container id)' },
  { name: 'memory', short: 'm', type: 'string', value: 'SIZE', summary: 'with --image: memory limit (512m, 1g)' },
  { name: 'pids-limit', type: 'number', value: 'N', summary: 'with --image: at most N processes' },
  { name: 'cpus', type: 'number', value: 'C', summary: 'with --image: at most C CPUs of time (1.5)' },
  { name: 'read-only', type: 'boolean', summary: 'with --image: mount the rootfs read-only' },
  { name: 'cap-add', type: 'list', value: 'CAP', summary: "with --image: add a capability to runc's defaults (ALL)" },
  { name: 'cap-drop', type: 'list', value: 'CAP', summary: 'with --image: drop a capability (ALL)' },
  { name: 'network', type: 'string', value: 'none|host', summary: "with --image: a new network namespace (none, the default) or the host's" },
  { name: 'interactive', short: 'i', type: 'boolean', summary: 'with --image: keep stdin (otherwise /dev/null)' },
];

/** What the image flags ask of createContainer; `command` replaces the image's Cmd. */
export function fromImageFlags(opts: CommandContext['opts'], store: string | undefined, command: string[], terminal: boolean): Pick<CreateOptions, 'image' | 'stdio'> {
  const image: ImageRunOptions = { ref: opts['image'] as string, terminal };
  if (store !== undefined) image.store = store;
  if (command.length > 0) image.args = command;
  const list = (name: string): string[] | undefined => opts[name] as string[] | undefined;
  const text = (name: string): string | undefined => opts[name] as string | undefined;
  if (list('env')) image.env = list('env')!;
  if (list('env-file')) image.envFiles = list('env-file')!;
  if (list('volume')) image.volumes = list('volume')!;
  if (list('cap-add')) image.capAdd = list('cap-add')!;
  if (list('cap-drop')) image.capDrop = list('cap-drop')!;
  if (text('entrypoint') !== undefined) image.entrypoint = text('entrypoint')!;
  if (text('workdir') !== undefined) image.workdir = text('workdir')!;
  if (text('user') !== undefined) image.user = text('user')!;
  if (text('hostname') !== undefined) image.hostname = text('hostname')!;
  if (text('memory') !== undefined) image.memory = text('memory')!;
  if (opts['pids-limit'] !== undefined) image.pidsLimit = opts['pids-limit'] as number;
  if (opts['cpus'] !== undefined) image.cpus = opts['cpus'] as number;
  if (opts['read-only']) image.readOnly = true;
  const network = text('network');
  if (network !== undefined) {
    if (network !== 'none' && network !== 'host') throw new UsageError('--network must be none or host');
    image.network = network;
  }
  const interactive = Boolean(opts['interactive']) || terminal;
  return { image, ...(!interactive && { stdio: [openSync('/dev/null', 'r'), 1, 2] as [number, number, number] }) };
}

/** Refuses image flags without --image. */
export function checkImageFlags(opts: CommandContext['opts']): void {
  if (opts['image'] !== undefined) return;
  const used = imageFlags.filter((f) => f.name !== 'image' && opts[f.name] !== undefined).map((f) => `--${f.name}`);
  if (used.length > 0) throw new UsageError(`${used.join(', ')}: only with --image`);
}

/** What the shared flags ask of createContainer. */
export function fromCreateFlags(opts: CommandContext['opts']): Pick<CreateOptions, 'pidFile' | 'consoleSocket' | 'noPivot' | 'noNewKeyring' | 'preserveFds'> {
  return {
    ...(opts['pid-file'] !== undefined && { pidFile: opts['pid-file'] as string }),
    ...(opts['console-socket'] !== undefined && { consoleSocket: opts['console-socket'] as string }),
    noPivot: Boolean(opts['no-pivot']),
    noNewKeyring: Boolean(opts['no-new-keyring']),
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
  usage: '<container-id> (with --image: [-- COMMAND [ARG...]])',
  minArgs: 1,
  options: [
    { name: 'bundle', short: 'b', type: 'string', value: 'DIR', summary: 'the bundle directory (default: the current directory)' },
    { name: 'tty', short: 't', type: 'boolean', summary: 'with --image: give the process a terminal (needs --console-socket)' },
    ...createFlags,
    ...imageFlags,
  ],
  async run({ global, args, opts }) {
    checkImageFlags(opts);
    const [id, ...commandLine] = args as [string, ...string[]];
    if (opts['image'] === undefined && commandLine.length > 0) throw new UsageError('create: a command goes with --image only (a bundle has its own)');
    if (opts['image'] !== undefined && opts['bundle'] !== undefined) throw new UsageError('create: --image or --bundle, not both');
    await createContainer(runtimeOptions(global), {
      id,
      ...(opts['image'] !== undefined ? fromImageFlags(opts, global.store, commandLine, Boolean(opts['tty'])) : { bundle: (opts['bundle'] as string | undefined) ?? '.' }),
      ...fromCreateFlags(opts),
      ...fromSystemdEnvironment(),
    });
    return 0;
  },
};
