/** The escape lab's report as text: a table, and with --explain the kernel's side of every row. Pure. */
import { formatTable } from '../text/table.js';
import type { EscapeLabReport, EscapeResult } from './types.js';

function evidence(result: EscapeResult): string {
  switch (result.outcome) {
    case 'escaped':
      return `read secret ${(result.secretReadBack ?? '').slice(0, 8)}…`;
    case 'held':
      return `${result.errno} at ${result.step}`;
    case 'error':
      return 'lab error';
  }
}

/** Word-wraps `text` to `width` columns, every line indented by `indent`. */
export function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n') + '\n';
}

function summary(report: EscapeLabReport): string {
  const defaults = report.configurations.filter((c) => c.isDefault);
  const escapedDefaults = defaults.filter((c) => report.results.some((r) => r.configuration === c.id && r.outcome === 'escaped'));
  const errors = report.results.filter((r) => r.outcome === 'error').length;
  const names = defaults.map((c) => `(${c.number})`).join(' and ');
  let text =
    escapedDefaults.length > 0
      ? `ESCAPED: ${escapedDefaults.map((c) => `(${c.number}) ${c.title}`).join('; ')} did not hold.\n`
      : `${names} held against every attempt.\n`;
  if (errors > 0) text += `${errors} row(s) could not be run (see RESULT error).\n`;
  for (const note of report.cleanup) text += `cleanup: ${note}\n`;
  return text;
}

export function formatReport(report: EscapeLabReport, explain = false): string {
  const title = (id: string): string => {
    const c = report.configurations.find((x) => x.id === id)!;
    return `(${c.number}) ${c.id}`;
  };
  let out = `marker ${report.marker} (outside the rootfs), secret ${report.secret.slice(0, 8)}…, kernel ${report.kernel}\n\n`;
  if (!explain) {
    const rows = report.results.map((r) => [title(r.configuration), r.attempt, r.outcome.toUpperCase(), evidence(r), r.why]);
    out += formatTable(['CONFIGURATION', 'ATTEMPT', 'RESULT', 'EVIDENCE', 'WHY'], rows);
  } else {
    for (const c of report.configurations) {
      out += `(${c.number}) ${c.title}\n`;
      out += wrap(c.explanation, 100, '    ');
      for (const r of report.results.filter((x) => x.configuration === c.id)) {
        out += `  ${r.attempt}: ${r.outcome.toUpperCase()} (${evidence(r)})\n`;
        out += wrap(r.explanation, 100, '      ');
      }
      out += '\n';
    }
  }
  return `${out}\n${summary(report)}`;
}
