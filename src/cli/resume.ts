import { resumeContainer } from '../runtime/resources.js';
import type { Command } from './command.js';
import { runtimeOptions } from './runtime-options.js';

export const command: Command = {
  name: 'resume',
  summary: 'resume every process of a paused container',
  usage: '<container-id>',
  minArgs: 1,
  maxArgs: 1,
  options: [],
  async run({ global, args }) {
    await resumeContainer(runtimeOptions(global), args[0]!);
    return 0;
  },
};
