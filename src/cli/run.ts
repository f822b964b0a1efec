import { attachConsole } from '../runtime/console.js';
import { runContainer } from '../runtime/container.js';
import { hostRootfsSpec } from '../runtime/host-rootfs.js';
import type { Command } from './command.js';
import { createFlags, fromCreateFlags, fromSystemdEnvironment } from './create.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'run',
  summary: 'create and start a container, wait for it and remove it (runc run); with a command and no bundle, on the host\'s own read-only /usr',
  usage: '<container-id> [-- COMMAND [ARG...]]',
  minArgs: 1,
  options: [
    { name: 'bundle', short: 'b', type: 'string', value: 'DIR', summary: 'the bundle directory (default: the current directory)' },
    { name: 'detach', short: 'd', type: 'boolean', summary: 'return once the container has started' },
    { name: 'rm', type: 'boolean', summary: 'remove the container when it exits (the default in the foreground)' },
    { name: 'tty', short: 't', type: 'boolean', summary: 'with a COMMAND and no bundle: give it a terminal' },
    ...createFlags,
  ],
  async run({ global, args, opts }) {
    const [id, ...commandLine] = args as [string, ...string[]];
    const bundle = opts['bundle'] as string | undefined;
    const embedded = commandLine.length > 0 && bundle === undefined;
    let detach: (() => Promise<void>) | undefined;
    const { code } = await runContainer(runtimeOptions(global), {
      id,
      ...(embedded
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
