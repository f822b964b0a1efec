import { type Command, UsageError } from './command.js';
import { printJson, write } from './output.js';

export const command: Command = {
  name: 'escape-lab',
  summary: 'try the classic jail escapes against chroot, --no-pivot, pivot_root and the default container, for real',
  usage: '',
  options: [
    { name: 'format', short: 'f', type: 'string', value: 'table|json', summary: 'output format (default table)' },
    { name: 'explain', type: 'boolean', summary: 'say, per row, what the kernel does' },
  ],
  maxArgs: 0,
  async run({ opts }) {
    const format = (opts['format'] as string | undefined) ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, not "${format}"`);
    const { formatReport, labExitCode, runEscapeLab } = await import('../lab/index.js');
    const report = await runEscapeLab();
    if (format === 'json') await printJson(report);
    else await write(process.stdout, formatReport(report, Boolean(opts['explain'])));
    return labExitCode(report);
  },
};
