/**
 * Why each row escaped or held, in one line, from what the probe reported (the
 * step and errno) and the jail it ran in. Pure.
 */
import { attempts } from './plan.js';
import type { AttemptId, ConfigurationId, EscapeResult } from './types.js';

type Row = Pick<EscapeResult, 'configuration' | 'attempt' | 'outcome' | 'step' | 'errno' | 'error'>;

const pivoted = (c: ConfigurationId): boolean => c === 'pivot-root' || c === 'pivot-root-open-fds' || c === 'container';

function escapedWhy(configuration: ConfigurationId, attempt: AttemptId, step: string | undefined): string {
  switch (attempt) {
    case 'classic':
      return 'chroot moved the root but not the cwd: ".." from the stale cwd climbed past the jail to the host\'s /';
    case 'leaked-fd':
      return 'the leaked fd still pointed at the host\'s / and nothing closed it: fchdir went straight out';
    case 'proc-root':
      return step === 'proc-1-root'
        ? 'procfs showed the host\'s pid 1, and its /root link leads to the host\'s /'
        : 'a procfs of the host\'s pid namespace (mounted with CAP_SYS_ADMIN) showed the lab\'s pid; its /root link leads to the host\'s /';
    case 'mount-ns':
      return configuration === 'no-pivot'
        ? 'detaching the rootfs mount uncovered the host\'s tree beneath it; setns reset the root to the namespace\'s root, the host\'s /'
        : 'the mount namespace is the host\'s: setns into it reset the root to the host\'s /';
  }
}

function heldWhy(configuration: ConfigurationId, attempt: AttemptId, errno: string, step: string): string {
  if (errno === 'EPERM' && (step === 'chroot-subdir' || step === 'chroot-dot')) {
    return 'chroot(2) needs CAP_SYS_CHROOT, which this jail does not have';
  }
  if (errno === 'EPERM' && step === 'mount-proc') return 'no procfs in the jail, and mounting one needs CAP_SYS_ADMIN';
  if (errno === 'EPERM' && step === 'setns-mnt') return 'setns into a mount namespace needs CAP_SYS_ADMIN and CAP_SYS_CHROOT, which this jail does not have';
  if (errno === 'EBADF' && step === 'leaked-fd') {
    return 'the runtime made every fd above 2 close-on-exec (close_fds), so the leaked fd was gone before the program ran';
  }
  if (step === 'open-proc-pid-root' && errno === 'ENOENT') {
    return 'this procfs belongs to the jail\'s own pid namespace: no host pid is in it, and /proc/1 is the jail\'s own init';
  }
  if (step === 'open-marker' && errno === 'ENOENT') {
    if (attempt === 'classic') {
      return configuration === 'no-pivot'
        ? '".." left the rootfs mount for the / it covers, and the walk stepped back down into the rootfs mounted there: the host\'s / stays hidden beneath'
        : '".." stops at the root of the mount namespace, which pivot_root made the rootfs: the host\'s tree is not in this namespace';
    }
    if (attempt === 'mount-ns' && pivoted(configuration)) {
      return 'the namespace\'s root is the rootfs itself (pivot_root, old root detached): nothing lies beneath it to uncover';
    }
  }
  return `${step} failed with ${errno}`;
}

export function whyOf(row: Row): string {
  if (row.outcome === 'error') return `the lab could not run this row: ${row.error ?? 'unknown error'}`;
  if (row.outcome === 'escaped') return escapedWhy(row.configuration, row.attempt, row.step);
  return heldWhy(row.configuration, row.attempt, row.errno ?? '?', row.step ?? '?');
}

/** The kernel's side of a row: the attempt's mechanism, then what it met in this jail. */
export function explainRow(row: Row): string {
  const attempt = attempts.find((a) => a.id === row.attempt)!;
  return `${attempt.explanation} Here: ${whyOf(row)}.`;
}
