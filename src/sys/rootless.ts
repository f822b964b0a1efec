/**
 * Rootless mode: whether husk runs without the host's root, and where its state
 * and image store go then. Plain reads of the process's own ids and /proc, so
 * every layer (runtime, image, cli) can ask without loading the addon.
 *
 * runc's rule: rootless when the effective uid is not 0, or when husk's uid 0 is
 * not the host's root (it runs in a user namespace that does not map the whole
 * id space, as inside `podman unshare` or a rootless engine's namespace).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The uid_map of a process that is the initial user namespace's own. */
const INITIAL_USER_NAMESPACE_MAP = /^\s*0\s+0\s+4294967295\s*$/;

/** Whether this process runs in a user namespace other than the host's (initial) one. */
export function inUserNamespace(): boolean {
  try {
    return !INITIAL_USER_NAMESPACE_MAP.test(readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

/** Whether husk runs without the host's root: euid != 0, or uid 0 of a user namespace of its own. */
export function isRootless(): boolean {
  return process.geteuid!() !== 0 || inUserNamespace();
}

/**
 * The default state root: /run/husk for the host's root; rootless, runc's rule,
 * $XDG_RUNTIME_DIR/husk, else husk-<uid> under the temporary directory (runc
 * would fall back to /run/runc and fail with EACCES).
 */
export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (!isRootless()) return '/run/husk';
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) return join(runtimeDir, 'husk');
  return join(env['TMPDIR'] || '/tmp', `husk-${process.geteuid!()}`);
}

/**
 * The default image store: /var/lib/husk for the host's root; rootless,
 * $XDG_DATA_HOME/husk, else ~/.local/share/husk (where podman keeps its own).
 */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (!isRootless()) return '/var/lib/husk';
  const dataHome = env['XDG_DATA_HOME'];
  if (dataHome) return join(dataHome, 'husk');
  return join(env['HOME'] || homedir(), '.local', 'share', 'husk');
}
