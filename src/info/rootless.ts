/**
 * The rootless part of `husk info`: what a user without root can have here. The caller's
 * /etc/subuid and /etc/subgid ranges, newuidmap/newgidmap, whether its containers would get
 * a delegated cgroup (the very check `create` makes), and overlayfs really mounted in a
 * throwaway user namespace.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroups, resolveCgroupsPath } from '../cgroups/index.js';
import { callerName, defaultStateRoot, findIdMapHelper, isRootless, subordinateRanges, type IdMapHelper } from '../sys/rootless.js';
import type { IdMapHelperReport, Probe, RootlessReport } from './types.js';

const helperReport = (helper: IdMapHelper): IdMapHelperReport => ({ path: helper.path ?? null, setuid: helper.setuid });

/** Whether a container of this caller, at `cgroupParent` (default /husk), would get a cgroup. */
async function delegatedCgroup(cgroupParent: string | undefined): Promise<Probe> {
  if (!isRootless()) return { status: 'not-checked', detail: 'husk runs as the host\'s root here: containers get cgroups as usual' };
  try {
    const { rootlessCgroup } = await import('../runtime/rootless.js');
    const layout = detectCgroups();
    const path = resolveCgroupsPath(undefined, 'husk-info-probe', cgroupParent);
    const placement = rootlessCgroup(path, layout);
    return placement.delegated
      ? { status: 'yes', detail: `containers go beneath ${cgroupParent ?? '/husk'} (writable), and resource limits apply` }
      : { status: 'no', detail: `${placement.why}: containers get no cgroup, resource limits are refused` };
  } catch (error) {
    return { status: 'no', detail: (error as Error).message };
  }
}

/**
 * Mounts a tmpfs and an overlay on it in a throwaway user + mount namespace (uid 0 there is the
 * caller), the way a rootless container's rootfs would be, and prints the outcome as JSON.
 */
const overlayScript = `
const addon = require(process.argv[1]);
const fs = require('fs');
const dir = ['/tmp', '/mnt', '/run', '/var/tmp'].find((d) => fs.existsSync(d));
let step = 'make / private';
try {
  addon.mount(null, '/', null, addon.constants.MS_REC | addon.constants.MS_PRIVATE, null);
  step = 'mount tmpfs on ' + dir;
  addon.mount('tmpfs', dir, 'tmpfs', 0, 'size=64k');
  for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(dir + '/' + d);
  step = 'mount overlay';
  addon.mount('overlay', dir + '/merged', 'overlay', 0, 'lowerdir=' + dir + '/lower,upperdir=' + dir + '/upper,workdir=' + dir + '/work');
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, step, message: e.message }));
}
`;

async function overlayInUserNamespace(addonPath: string | undefined): Promise<Probe> {
  if (addonPath === undefined) return { status: 'not-checked', detail: 'addon not built' };
  let spawn: typeof import('../runtime/spawn.js').spawn;
  try {
    ({ spawn } = await import('../runtime/spawn.js'));
  } catch (error) {
    return { status: 'not-checked', detail: `cannot load husk's spawn: ${(error as Error).message.split('\n')[0]}` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'husk-info-'));
  const outFile = join(dir, 'overlay.json');
  const out = openSync(outFile, 'w');
  const devNull = openSync('/dev/null', 'r+');
  try {
    const uid = process.geteuid!();
    const gid = process.getegid!();
    const child = await spawn({
      file: process.execPath,
      args: [process.execPath, '-e', overlayScript, addonPath],
      env: [],
      namespaces: ['user', 'mount'],
      uidMap: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMap: [{ containerID: 0, hostID: gid, size: 1 }],
      stdio: [devNull, out, devNull],
    });
    const exit = await child.wait();
    const text = readFileSync(outFile, 'utf8');
    if (text === '') return { status: 'no', detail: `the probe printed nothing (exit ${exit.exitCode ?? exit.signal})` };
    const result = JSON.parse(text) as { ok: boolean; step?: string; message?: string };
    if (result.ok) return { status: 'yes', detail: 'mounted in a throwaway user namespace' };
    return { status: 'no', detail: `${result.step}: ${result.message}${result.step === 'mount overlay' ? ' (needs kernel >= 5.11)' : ''}` };
  } catch (error) {
    return { status: 'no', detail: (error as Error).message };
  } finally {
    closeSync(out);
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function describeRootless(options: { cgroupParent?: string | undefined; addonPath: string | undefined }): Promise<RootlessReport> {
  const name = callerName();
  const uid = process.getuid!();
  const [cgroup, overlay] = await Promise.all([delegatedCgroup(options.cgroupParent), overlayInUserNamespace(options.addonPath)]);
  return {
    active: isRootless(),
    user: name ?? null,
    stateRoot: defaultStateRoot(),
    subuid: subordinateRanges('/etc/subuid', name, uid),
    subgid: subordinateRanges('/etc/subgid', name, uid),
    newuidmap: helperReport(findIdMapHelper('newuidmap')),
    newgidmap: helperReport(findIdMapHelper('newgidmap')),
    delegatedCgroup: cgroup,
    overlayInUserNamespace: overlay,
  };
}
