/**
 * The image API from TypeScript, in this process: importImage, listImages,
 * inspectImage, runContainer({ image }), containerChanges, removeImage.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerChanges, deleteContainer, importImage, inspectImage, listImages, removeImage, runContainer } from '../../../src/index.js';
import { testCgroupParent } from '../../helpers/husk.js';
import { busyboxEntries, craftLayout } from '../../helpers/image-fixtures.js';

const work = mkdtempSync('/tmp/husk-image-api-');
const store = join(work, 'store');
const rt = { root: mkdtempSync('/run/husk-image-api-'), cgroupParent: testCgroupParent };

afterAll(async () => {
  await deleteContainer(rt, 'api1', true).catch(() => {});
  rmSync(rt.root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('image API', () => {
  it('imports, lists, runs with a copy-on-write layer, diffs and removes an image', async () => {
    const layout = await craftLayout(join(work, 'layout'), [busyboxEntries(), [{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', data: 'hello\n' }]], { name: 'localhost/api:1' });
    const [image] = await importImage({ store }, layout.dir);
    expect(image!.id).toBe(layout.id);
    expect(listImages({ store }).map((i) => i.names)).toEqual([['localhost/api:1']]);
    expect(inspectImage({ store }, 'localhost/api:1').config.rootfs?.diff_ids).toEqual(layout.diffIds);

    const out = join(work, 'out');
    const fd = openSync(out, 'w');
    const { code } = await runContainer(rt, {
      id: 'api1',
      image: { ref: 'localhost/api:1', store, args: ['/bin/sh', '-c', 'cat /etc/motd; echo changed > /etc/motd'] },
      stdio: [fd, fd, fd],
      remove: false,
    });
    closeSync(fd);
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('hello\n');
    expect(containerChanges(rt, 'api1')).toEqual([
      { kind: 'C', path: '/etc' },
      { kind: 'C', path: '/etc/motd' },
    ]);
    expect(() => removeImage({ store }, image!.id)).toThrow(/in use by container api1/);
    await deleteContainer(rt, 'api1');
    expect(removeImage({ store }, image!.id).layers).toHaveLength(2);
    expect(listImages({ store })).toEqual([]);
  }, 120_000);
});
