import { attachConsole } from '../runtime/console.js';
import { runContainer } from '../runtime/container.js';
import { hostRootfsSpec } from '../runtime/host-rootfs.js';
import type { Command } from './command.js';
import { checkImageFlags, createFlags, fromCreateFlags, fromImageFlags, fromSystemdEnvironment, imageFlags } from './create.js';
import { UsageError } from './command.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'run',
  summary: 'create and start a container, wait for it and remove it (runc run); with a command and no bundle, on the host\'s own read-only /usr',
  usage: '[--image IMAGE] <container-id> [-- COMMAND [ARG...]]',
  minArgs: 1,
  options: [
    { name: 'bundle', short: 'b', type: 'string', value: 'DIR', summary: 'the bundle directory (default: the current directory)' },
    { name: 'detach', short: 'd', type: 'boolean', summary: 'return once the container has started' },
    { name: 'rm', type: 'boolean', summary: 'remove the container when it exits (the default in the foreground, except with --image)' },
    { name: 'tty', short: 't', type: 'boolean', summary: 'with a COMMAND and no bundle, or --image: give it a terminal' },
    ...createFlags,
    ...imageFlags,
  ],
  async run({ global, args, opts }) {
    const [id, ...commandLine] = args as [string, ...string[]];
    const bundle = opts['bundle'] as string | undefined;
    checkImageFlags(opts);
    const image = opts['image'] !== undefined;
    if (image && bundle !== undefined) throw new UsageError('run: --image or --bundle, not both');
    const embedded = commandLine.length > 0 && bundle === undefined;
    let detach: (() => Promise<void>) | undefined;
    const { code } = await runContainer(runtimeOptions(global), {
      id,
      ...(image
        ? { ...fromImageFlags(opts, global.store, commandLine, Boolean(opts['tty'])), remove: Boolean(opts['rm']) }
        : embedded
          ? { generated: hostRootfsSpec(commandLine, id, Boolean(opts['tty'])) }
          : { bundle: bundle ?? '.', ...(commandLine.length > 0 && { args: commandLine }) }),
      ...fromCreateFlags(opts),
      ...fromSystemdEnvironment(),
      // Without a console socket, a terminal is attached to ours.
      ...(opts['console-socket'] === undefined && { onConsole: (fd: number) => (detach = attachConsole(fd)) }),
      detach: Boolean(opts['detach']),
    });
    await detach?.();
    return code;
  },
};
