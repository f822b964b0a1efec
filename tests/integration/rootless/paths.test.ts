/**
 * Rootless detection and default paths, seen by a real unprivileged user (the
 * rules of src/sys/rootless.ts), and by root here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { defaultStateRoot, defaultStoreRoot, inUserNamespace, isRootless } from '../../../src/sys/rootless.js';
import { createTestUser, type TestUser } from '../../helpers/rootless-user.js';

const probe = `import('${'REPO'}/dist/sys/rootless.js').then((r) => console.log(JSON.stringify({
  rootless: r.isRootless(), userns: r.inUserNamespace(), state: r.defaultStateRoot(), store: r.defaultStoreRoot() })))`;

describe('rootless detection', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createTestUser();
  });
  afterAll(async () => {
    await user?.remove();
  });

  it('root on the host is not rootless: /run/husk and /var/lib/husk', () => {
    expect(isRootless()).toBe(false);
    expect(inUserNamespace()).toBe(false);
    expect(defaultStateRoot()).toBe('/run/husk');
    expect(defaultStoreRoot()).toBe('/var/lib/husk');
  });

  it('a plain user is rootless: $XDG_RUNTIME_DIR/husk and $XDG_DATA_HOME/husk, else ~/.local/share/husk', async () => {
    const script = probe.replace('REPO', user.repo);
    const plain = await user.run([process.execPath, '--input-type=module', '-e', script]);
    expect(plain.stderr).toBe('');
    expect(JSON.parse(String(plain.stdout))).toEqual({
      rootless: true,
      userns: false,
      state: join(user.runtimeDir, 'husk'),
      store: join(user.home, '.local/share/husk'),
    });
    const withDataHome = await user.run([process.execPath, '--input-type=module', '-e', script], { env: { XDG_DATA_HOME: '/srv/data' } });
    expect(JSON.parse(String(withDataHome.stdout)).store).toBe('/srv/data/husk');
  });

  it("uid 0 of the user's own user namespace is still rootless", async () => {
    const script = probe.replace('REPO', user.repo);
    const inside = await user.run(['unshare', '--user', '--map-root-user', process.execPath, '--input-type=module', '-e', script]);
    expect(inside.stderr).toBe('');
    expect(JSON.parse(String(inside.stdout))).toMatchObject({ rootless: true, userns: true, state: join(user.runtimeDir, 'husk') });
  });
});
