/** The human form of `husk info`: sections of aligned tables. */
import { formatTable } from '../text/table.js';
import type { HostInfo, Probe } from './types.js';

/** "yes", "no (EPERM ...)", "not checked (needs root)". */
export function describeProbe(probe: Probe, showYesDetail = false): string {
  const detail = probe.detail === undefined ? '' : ` (${probe.detail})`;
  switch (probe.status) {
    case 'yes':
      return showYesDetail ? `yes${detail}` : 'yes';
    case 'no':
      return `no${detail}`;
    case 'not-checked':
      return `not checked${detail}`;
  }
}

const indent = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

const orDash = (value: number | null): string => (value === null ? '-' : String(value));

export function formatHostInfo(info: HostInfo): string {
  const sections: string[] = [];
  const addon = info.husk.addon.loaded
    ? `addon loaded${info.husk.addon.path ? ` from ${info.husk.addon.path}` : ''}`
    : `addon NOT loaded: ${info.husk.addon.error ?? ''}`;
  sections.push(
    formatTable(
      ['husk', `${info.husk.version} (${addon})`],
      [
        ['kernel', `${info.kernel.release} ${info.kernel.machine} (${info.kernel.version})`],
        ['caller', `uid ${info.caller.uid} gid ${info.caller.gid}, ${info.caller.privileged ? 'privileged (CAP_SYS_ADMIN)' : 'unprivileged'}`],
      ],
    ),
  );

  sections.push(
    'Namespaces:\n' +
      indent(
        formatTable(
          ['KIND', 'SPEC TYPE', 'CAN CREATE'],
          info.namespaces.map((ns) => [ns.kind, ns.specType, describeProbe(ns.creatable)]),
        ),
      ),
  );

  const cgroupRows: string[][] = info.cgroups.v1.map((h) => ['v1', h.controllers.join(','), h.mountPoint, h.ownCgroup ?? '-']);
  if (info.cgroups.v2 !== null) {
    const v2 = info.cgroups.v2;
    cgroupRows.push(['v2', v2.controllers.length > 0 ? v2.controllers.join(',') : '(none)', v2.mountPoint, v2.ownCgroup ?? '-']);
  }
  sections.push(
    `Cgroups: ${info.cgroups.mode}\n` +
      (cgroupRows.length > 0 ? indent(formatTable(['VERSION', 'CONTROLLERS', 'MOUNTED AT', 'OWN CGROUP'], cgroupRows)) : '  (none mounted)'),
  );

  const userns = info.userNamespaces;
  const seccomp = info.seccomp;
  const featureRows: string[][] = [
    ['overlayfs', describeProbe(info.overlayfs)],
    ['pivot_root', describeProbe(info.pivotRoot)],
    [
      'user namespaces',
      `max ${orDash(userns.maxUserNamespaces)}, unprivileged_userns_clone ${orDash(userns.unprivilegedUsernsClone)}, ` +
        `apparmor_restrict_unprivileged_userns ${orDash(userns.apparmorRestrictUnprivilegedUserns)}; ` +
        `unprivileged: ${describeProbe(userns.unprivilegedAllowed)}`,
    ],
    [
      'seccomp',
      seccomp.supported
        ? `yes (actions: ${seccomp.actionsAvailable.join(' ')}; caller mode ${orDash(seccomp.callerMode)}, filters ${orDash(seccomp.callerFilters)})`
        : 'no',
    ],
    ...Object.entries(info.syscalls).map(([name, probe]) => [syscallName(name), describeProbe(probe, true)]),
  ];
  sections.push('Features:\n' + indent(formatTable(['FEATURE', 'AVAILABLE'], featureRows)));

  const rootless = info.rootless;
  const ranges = (list: { start: number; count: number }[], file: string): string =>
    list.length === 0 ? `none in ${file}` : `${list.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ')} (${file})`;
  const helper = (h: { path: string | null; setuid: boolean }, name: string): string =>
    h.path === null ? `not installed (${name}: Debian/Ubuntu package uidmap)` : `${h.path}${h.setuid ? ' (set-uid root)' : ' (NOT set-uid root)'}`;
  sections.push(
    `Rootless (${rootless.active ? 'husk runs rootless now' : 'husk runs as root now; run husk info as the user to see theirs'}, user ${rootless.user ?? `uid ${info.caller.uid}`}):\n` +
      indent(
        formatTable(
          ['WHAT', 'HERE'],
          [
            ['state root', rootless.stateRoot],
            ['subuid ranges', ranges(rootless.subuid, '/etc/subuid')],
            ['subgid ranges', ranges(rootless.subgid, '/etc/subgid')],
            ['newuidmap', helper(rootless.newuidmap, 'newuidmap')],
            ['newgidmap', helper(rootless.newgidmap, 'newgidmap')],
            ['delegated cgroup', describeProbe(rootless.delegatedCgroup, true)],
            ['overlay in a user namespace', describeProbe(rootless.overlayInUserNamespace, true)],
          ],
        ),
      ),
  );

  const caps = info.capabilities;
  sections.push(
    'Capabilities (caller):\n' +
      indent(
        formatTable(
          ['SET', 'CAPABILITIES'],
          [
            ['effective', summarizeCaps(caps.effective, caps.bounding)],
            ['bounding', `${caps.bounding.length} of ${(caps.lastCap ?? caps.bounding.length - 1) + 1}`],
            ['not in bounding', caps.missingFromBounding.join(' ') || '(none)'],
            ['ambient', caps.ambient.join(' ') || '(none)'],
          ],
        ),
      ),
  );

  if (info.warnings.length > 0) sections.push('Warnings:\n' + info.warnings.map((w) => `  - ${w}`).join('\n'));
  return sections.map((s) => s.trimEnd()).join('\n\n') + '\n';
}

function syscallName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The whole list is long: say "all N of the bounding set" when that is the case. */
function summarizeCaps(set: string[], bounding: string[]): string {
  if (set.length > 0 && set.length === bounding.length && set.every((c) => bounding.includes(c))) {
    return `all ${set.length} of the bounding set`;
  }
  return set.join(' ') || '(none)';
}
