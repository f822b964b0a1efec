import { listContainers } from '../runtime/lifecycle.js';
import type { Command } from './command.js';
import { formatTable } from '../text/table.js';
import { printJson, write } from './output.js';
import { runtimeOptions } from './runtime-options.js';
import { UsageError } from './command.js';

export const command: Command = {
  name: 'list',
  summary: 'list containers',
  usage: '',
  maxArgs: 0,
  options: [
    { name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'output format (default table)' },
    { name: 'quiet', short: 'q', type: 'boolean', summary: 'print only the ids' },
  ],
  async run({ global, opts }) {
    const entries = listContainers(runtimeOptions(global));
    const format = (opts['format'] as string | undefined) ?? 'table';
    if (opts['quiet']) {
      await write(process.stdout, entries.map((e) => e.id + '\n').join(''));
    } else if (format === 'json') {
      await printJson(entries);
    } else if (format === 'table') {
      const rows = entries.map((e) => [e.id, String(e.pid), e.status, e.bundle, e.created, e.owner]);
      await write(process.stdout, formatTable(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], rows));
    } else {
      throw new UsageError(`--format must be table or json`);
    }
    return 0;
  },
};
