import { containerState } from '../runtime/lifecycle.js';
import type { Command } from './command.js';
import { printJson } from './output.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'state',
  summary: "print a container's state (runtime-spec state JSON)",
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [],
  async run({ global, args }) {
    await printJson(containerState(runtimeOptions(global), args[0]!));
    return 0;
  },
};
