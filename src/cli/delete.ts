import { deleteContainer } from '../runtime/lifecycle.js';
import type { Command } from './command.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'delete',
  summary: 'remove a stopped container (with --force, any container)',
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [{ name: 'force', short: 'f', type: 'boolean', summary: 'kill the container first if it runs' }],
  async run({ global, args, opts }) {
    await deleteContainer(runtimeOptions(global), args[0]!, Boolean(opts['force']));
    return 0;
  },
};
