/**
 * linux.sysctl, by runc's rules (libcontainer/configs/validate, `sysctl`): /proc/sys is not
 * all namespaced, so only keys that a namespace isolates are accepted, and each only when the
 * container has a namespace of that kind that is not the runtime's own. Anything else would
 * change the host. The messages are runc's, which engines and users know.
 */
import { SpecError } from '../spec/errors.js';

/** The ipc namespace's keys besides fs.mqueue.* (runc's validSysctlMap). */
const ipcKeys = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** Which of the container's namespaces are its own, as runc decides it. */
export interface SysctlNamespaces {
  /** An ipc namespace, new or joined (runc counts a joined one as separate). */
  ipc: boolean;
  /** A uts namespace, new or joined. */
  uts: boolean;
  /** A network namespace that is not the runtime's own (new, or joined by a path naming another). */
  network: boolean;
}

/**
 * The dotted form of a key: sysctl(8) also takes "/" as the separator when it comes first
 * ("net/ipv4/conf/eth0.100/rp_filter" is "net.ipv4.conf.eth0/100.rp_filter"), as runc's
 * convertSysctlVariableToDotsSeparator.
 */
export function dottedSysctl(key: string): string {
  const first = key.search(/[./]/);
  if (first === -1 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** The file of a key beneath /proc/sys ("net/ipv4/ip_forward"). */
export function sysctlFile(key: string, jsonPath: string): string {
  const parts = dottedSysctl(key).split('.').map((part) => part.replace(/\//g, '.'));
  if (parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new SpecError(jsonPath, `sysctl ${JSON.stringify(key)} is not a valid key`);
  }
  return parts.join('/');
}

/** Throws runc's error for the first key the container may not set. */
export function checkSysctls(sysctl: Record<string, string>, ns: SysctlNamespaces): void {
  for (const key of Object.keys(sysctl)) {
    const jsonPath = `linux.sysctl[${JSON.stringify(key)}]`;
    const s = dottedSysctl(key);
    const refuse = (rule: string): never => {
      throw new SpecError(jsonPath, rule);
    };
    sysctlFile(key, jsonPath);
    if (ipcKeys.has(s) || s.startsWith('fs.mqueue.')) {
      if (!ns.ipc) refuse(`sysctl ${JSON.stringify(s)} is not allowed in the hosts ipc namespace`);
      continue;
    }
    if (s.startsWith('net.')) {
      if (!ns.network) refuse(`sysctl ${JSON.stringify(s)} not allowed in host network namespace`);
      continue;
    }
    if (ns.uts && s === 'kernel.domainname') continue;
    if (ns.uts && s === 'kernel.hostname') refuse(`sysctl ${JSON.stringify(s)} is not allowed as it conflicts with the OCI "hostname" field`);
    refuse(`sysctl ${JSON.stringify(s)} is not in a separate kernel namespace`);
  }
}
