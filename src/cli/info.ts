import type { Command } from './command.js';

// Placeholder until the host report lands (issue 2): prints nothing useful yet.
export const command: Command = {
  name: 'info',
  summary: 'show what this host offers for containers',
  usage: '',
  options: [{ name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'output format' }],
  maxArgs: 0,
  async run() {
    process.stderr.write('husk info: not implemented yet\n');
    return 1;
  },
};
