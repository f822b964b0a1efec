import type { LinuxDeviceCgroup } from '../spec/types.js';

/**
 * Device rules every container gets after its own (runc's AllowedDevices): the
 * default /dev nodes, ptys, tun, and mknod of anything (using a node still needs
 * a rule). runc's default spec denies everything first and relies on these.
 */
export const defaultAllowedDevices: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // net/tun
];

/**
 * The device rules a container's cgroup gets: the spec's leading blanket rules (no type or
 * "a", no numbers: "deny everything", "allow everything"), then the defaults above, then the
 * spec's specific rules. runc appends the defaults after everything, so a spec rule such as
 * `deny c 1:3 w` is silently overridden there; here a specific rule of the spec has the last
 * word, while runc's default spec ([deny all]) gets exactly runc's list.
 */
export function withDefaultDevices(specRules: LinuxDeviceCgroup[] = []): LinuxDeviceCgroup[] {
  const blanket = (r: LinuxDeviceCgroup): boolean =>
    (r.type === undefined || r.type === 'a') && (r.major === undefined || r.major === -1) && (r.minor === undefined || r.minor === -1);
  let split = 0;
  while (split < specRules.length && blanket(specRules[split]!)) split++;
  return [...specRules.slice(0, split), ...defaultAllowedDevices, ...specRules.slice(split)];
}
