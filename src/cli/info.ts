import { type Command, UsageError } from './command.js';
import { printJson, write } from './output.js';

export const command: Command = {
  name: 'info',
  summary: 'show what this host offers for containers',
  usage: '',
  options: [{ name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'output format (default table)' }],
  maxArgs: 0,
  async run({ global, opts }) {
    const format = (opts['format'] as string | undefined) ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not "${format}"`);
    const { collectHostInfo, formatHostInfo } = await import('../info/index.js');
    const info = await collectHostInfo(global.cgroupParent !== undefined ? { cgroupParent: global.cgroupParent } : {});
    if (format === 'json') await printJson(info);
    else await write(process.stdout, formatHostInfo(info));
    return 0;
  },
};
