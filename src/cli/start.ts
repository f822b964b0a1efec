import { startContainer } from '../runtime/lifecycle.js';
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
    const notifySocket = process.env['NOTIFY_SOCKET'];
    await startContainer(runtimeOptions(global), args[0]!, notifySocket ? { notifySocket } : {});
    return 0;
  },
};
