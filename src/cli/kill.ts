import { parseSignal } from '../spec/signals.js';
import { killContainer } from '../runtime/lifecycle.js';
import { type Command, UsageError } from './command.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'kill',
  summary: "send a signal (default SIGTERM) to a container's init",
  usage: '<container-id> [SIGNAL]',
  minArgs: 1,
  maxArgs: 2,
  options: [{ name: 'all', short: 'a', type: 'boolean', summary: 'signal every process of the container' }],
  async run({ global, args, opts }) {
    let signal: number;
    try {
      signal = parseSignal(args[1] ?? 'SIGTERM');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    await killContainer(runtimeOptions(global), args[0]!, signal, Boolean(opts['all']));
    return 0;
  },
};
