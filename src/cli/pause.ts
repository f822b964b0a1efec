import { pauseContainer } from '../runtime/resources.js';
import type { Command } from './command.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'pause',
  summary: 'suspend every process of a running container (cgroup freezer)',
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [],
  async run({ global, args }) {
    await pauseContainer(runtimeOptions(global), args[0]!);
    return 0;
  },
};
