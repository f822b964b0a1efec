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
