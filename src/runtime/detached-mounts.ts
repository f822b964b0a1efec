/**
 * The mounts the runtime prepares before the container's clone (Plan.detachedMounts):
 * idmapped binds, made as runc 1.2 makes them. A throwaway child gets a new user
 * namespace whose uid_map/gid_map are the mount's mappings; the runtime clones the
 * source tree detached (open_tree), idmaps it with that namespace (mount_setattr),
 * and the container's child attaches the tree where it belongs (move_mount). The
 * runtime does the first two because it holds CAP_SYS_ADMIN over the source's
 * filesystem, which a child in its own user namespace does not.
 */
import { closeSync, openSync } from 'node:fs';
import { constants, native } from '../native/index.js';
import type { Plan } from '../plan/ops.js';
import { SyncPoint } from '../plan/ops.js';
import type { LinuxIDMapping } from '../spec/types.js';
import { SetupError } from './errors.js';
import { launchPlan } from './launch.js';
import { writeIdMaps } from './spawn.js';

/** An fd of a new user namespace with these mappings (its only process is gone when this returns). */
export async function userNamespaceFd(uidMappings: LinuxIDMapping[], gidMappings: LinuxIDMapping[]): Promise<number> {
  let fd: number | undefined;
  const holder = await launchPlan(
    {
      // Made by unshare, as every new user namespace (src/plan/container.ts says why). The
      // second sync never gets its answer: the child leaves when the runtime hangs up.
      cloneFlags: 0,
      ops: [
        { kind: 'pdeathsig', signal: 9 },
        { kind: 'unshare', flags: constants.CLONE_NEWUSER, what: 'CLONE_NEWUSER' },
        { kind: 'sync', point: SyncPoint.AfterClone },
        { kind: 'sync', point: SyncPoint.AfterClone },
      ],
    },
    {
      lastPoint: SyncPoint.AfterClone,
      onSyncPoint: (_point, child) => {
        writeIdMaps(child.pid, uidMappings, gidMappings);
        fd = openSync(`/proc/${child.pid}/ns/user`, 'r');
      },
    },
  );
  holder.kill('SIGKILL');
  await holder.wait();
  return fd!;
}

/**
 * Makes every detached mount of the plan and writes its fd into its move_mount op.
 * Returns the fds, which the caller closes once the child is launched (it inherits
 * them); on failure nothing stays open.
 */
export async function prepareDetachedMounts(plan: Plan): Promise<number[]> {
  const trees: number[] = [];
  const namespaces = new Map<string, number>();
  try {
    for (const mount of plan.detachedMounts ?? []) {
      const key = JSON.stringify([mount.idmap.uidMappings, mount.idmap.gidMappings]);
      let userns = namespaces.get(key);
      if (userns === undefined) {
        userns = await userNamespaceFd(mount.idmap.uidMappings, mount.idmap.gidMappings);
        namespaces.set(key, userns);
      }
      let tree: number;
      try {
        tree = native.openTreeIdmapped(mount.source, mount.recursive, userns, mount.idmap.recursive);
      } catch (error) {
        const e = error as { errno?: number; syscall?: string };
        throw new SetupError(`${e.syscall ?? 'open_tree'} of the idmapped bind ${mount.source}`, Math.abs(e.errno ?? 22));
      }
      trees.push(tree);
      const op = plan.ops[mount.opIndex];
      if (op?.kind !== 'move_mount') throw new Error(`plan: detached mount ${mount.source} has no move_mount op`);
      op.treeFd = tree;
    }
  } catch (error) {
    for (const fd of trees) closeSync(fd);
    throw error;
  } finally {
    for (const fd of namespaces.values()) closeSync(fd);
  }
  return trees;
}
