/** Printing helpers shared by the verbs. */

/** Writes and waits until the data is handed to the OS (so exit codes follow output). */
export function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

export function printJson(value: unknown): Promise<void> {
  return write(process.stdout, JSON.stringify(value, null, 2) + '\n');
}

/** Left-aligned columns separated by at least two spaces (the runc list / docker style). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
