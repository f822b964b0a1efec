import { runtimeFeatures } from '../runtime/features.js';
import type { Command } from './command.js';
import { printJson } from './output.js';

export const command: Command = {
  name: 'features',
  summary: 'show what husk implements, as JSON (runc features)',
  usage: '',
  maxArgs: 0,
  options: [],
  async run() {
    await printJson(runtimeFeatures());
    return 0;
  },
};
