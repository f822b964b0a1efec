import { startContainer } from '../runtime/container.js';
import type { Command } from './command.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'start',
  summary: 'start the process of a created container',
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [],
  async run({ global, args }) {
    await startContainer(runtimeOptions(global), args[0]!);
    return 0;
  },
};
