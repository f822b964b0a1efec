// The long-lived Node process of benchmark (4): husk's TypeScript API (the
// compiled dist/runtime/container.js, as a user of the package imports it)
// creating, starting, waiting for and deleting containers, one after another.
// Plain JS so that it runs under bare node: no tsx loader in the measured process.
//
// Protocol: one JSON request per stdin line, {root, bundle (with "%i"), id (with "%i"), count},
// one JSON answer per stdout line: {samples: [{create, start, wait, delete, total} in ms]} or {error}.
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';

const { createContainer, startContainer, deleteContainer } = await import(new URL('../../dist/runtime/container.js', import.meta.url).href);

const devNull = openSync('/dev/null', 'r+');
const ms = (from, to) => Number(to - from) / 1e6;

async function batch({ root, bundle, id, count }) {
  const rt = { root };
  const samples = [];
  for (let i = 0; i < count; i++) {
    const name = id.replace('%i', String(i));
    const t0 = process.hrtime.bigint();
    const container = await createContainer(rt, { id: name, bundle: bundle.replace('%i', String(i)), stdio: [devNull, devNull, 2] });
    const t1 = process.hrtime.bigint();
    await startContainer(rt, name);
    const t2 = process.hrtime.bigint();
    const exit = await container.init.wait();
    const t3 = process.hrtime.bigint();
    await deleteContainer(rt, name);
    const t4 = process.hrtime.bigint();
    if (exit.exitCode !== 0) throw new Error(`container ${name} exited with ${JSON.stringify(exit)}`);
    samples.push({ create: ms(t0, t1), start: ms(t1, t2), wait: ms(t2, t3), delete: ms(t3, t4), total: ms(t0, t4) });
  }
  return { samples, maxRssKb: process.resourceUsage().maxRSS };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  try {
    process.stdout.write(JSON.stringify(await batch(JSON.parse(line))) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }) + '\n');
  }
}
