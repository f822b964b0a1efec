/**
 * One table of device-cgroup scenarios, fed as they are to a container on the host's v1 devices
 * controller (tests/integration/cgroups/devices.test.ts, with runc 1.1.5 alongside) and on pure
 * cgroup v2's eBPF filter (tests/vm/devices-v2.test.ts): the same rules must let a container open
 * the same devices on both. The container (CAP_MKNOD, /dev a tmpfs) makes each node itself and
 * opens it for reading and for writing: EPERM is the device cgroup's refusal; ENXIO or ENODEV
 * (nothing behind the numbers) means the cgroup let the open through.
 */
import type { LinuxDeviceCgroup, Spec } from '../../src/spec/types.js';

export interface DeviceProbe {
  name: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
}

export const deviceProbes: DeviceProbe[] = [
  { name: 'null', type: 'c', major: 1, minor: 3 }, // a default device
  { name: 'zero', type: 'c', major: 1, minor: 5 }, // a default device
  { name: 'tun', type: 'c', major: 10, minor: 200 }, // a default device
  { name: 'chr240', type: 'c', major: 240, minor: 0 }, // local/experimental: no default rule
  { name: 'sda', type: 'b', major: 8, minor: 0 }, // a disk: no default rule
];

/** Per probe: m (mknod), r, w where the cgroup allows it, "-" where it refuses. */
export type Access = Record<string, string>;

export interface DeviceScenario {
  name: string;
  /** linux.resources.devices; undefined: the field is absent. */
  devices: LinuxDeviceCgroup[] | undefined;
  expected: Access;
  /** Where runc differs: it appends its default devices after the spec's rules, so they override it. */
  runc?: Access;
}

const defaultsOnly: Access = { null: 'mrw', zero: 'mrw', tun: 'mrw', chr240: 'm--', sda: 'm--' };
const denyAll: LinuxDeviceCgroup = { allow: false, access: 'rwm' };

export const deviceScenarios: DeviceScenario[] = [
  { name: 'no linux.resources.devices: deny by default, plus the default devices', devices: undefined, expected: defaultsOnly },
  { name: 'an empty list: the same', devices: [], expected: defaultsOnly },
  { name: "runc's default spec (deny all)", devices: [denyAll], expected: defaultsOnly },
  {
    name: 'deny all, then one character device readable',
    devices: [denyAll, { allow: true, type: 'c', major: 240, minor: 0, access: 'r' }],
    expected: { ...defaultsOnly, chr240: 'mr-' },
  },
  {
    name: 'deny all, then every minor of a block major read-write',
    devices: [denyAll, { allow: true, type: 'b', major: 8, access: 'rw' }],
    expected: { ...defaultsOnly, sda: 'mrw' },
  },
  {
    name: 'allow all',
    devices: [{ allow: true, access: 'rwm' }],
    expected: { null: 'mrw', zero: 'mrw', tun: 'mrw', chr240: 'mrw', sda: 'mrw' },
  },
  {
    name: 'deny all, then /dev/null not writable (the spec has the last word)',
    devices: [denyAll, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }],
    expected: { ...defaultsOnly, null: 'mr-' },
    runc: defaultsOnly,
  },
];

/** The container's shell script: one testinit dev-access line per probe, in order. */
export function probeScript(testinit: string): string {
  return deviceProbes.map((p) => `${testinit} dev-access /dev/probe-${p.name} ${p.type} ${p.major} ${p.minor}`).join('; ');
}

/** Gives the container CAP_MKNOD and the scenario's rules. */
export function applyScenario(spec: Spec, scenario: DeviceScenario): void {
  const caps = spec.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
  const resources = { ...spec.linux!.resources };
  if (scenario.devices === undefined) delete resources.devices;
  else resources.devices = scenario.devices;
  spec.linux!.resources = resources;
}

/** The container's output as an Access table: EPERM is "-", anything else the cgroup allowed. */
export function parseAccess(output: string): Access {
  const lines = output.trim().split('\n');
  const access: Access = {};
  deviceProbes.forEach((probe, i) => {
    const fields = Object.fromEntries((lines[i] ?? '').split(' ').map((f) => f.split('=') as [string, string]));
    const allowed = (v: string | undefined): boolean => {
      if (v === 'EPERM' || v === '-') return false;
      if (v === 'ok' || v === 'ENXIO' || v === 'ENODEV') return true;
      throw new Error(`${probe.name}: unexpected answer in ${JSON.stringify(lines[i])} (output: ${output})`);
    };
    access[probe.name] = `${allowed(fields.mknod) ? 'm' : '-'}${allowed(fields.read) ? 'r' : '-'}${allowed(fields.write) ? 'w' : '-'}`;
  });
  return access;
}
