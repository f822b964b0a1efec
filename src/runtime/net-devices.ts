/**
 * linux.netDevices (runtime-spec 1.3), as runc 1.3 applies it: each interface of the
 * runtime's network namespace named by a key is moved into the container's network
 * namespace under its `name` (default: the same), set up, with its permanent global
 * addresses given back (native/netdev.cc). Done by the runtime at the CreateHooks
 * sync point, before any create hook runs, so hooks already see the devices.
 */
import { closeSync, openSync } from 'node:fs';
import { native } from '../native/index.js';
import type { LinuxNetDevice } from '../spec/types.js';
import { SetupError } from './errors.js';

export function moveNetDevices(devices: Record<string, LinuxNetDevice> | undefined, initPid: number): void {
  const entries = Object.entries(devices ?? {});
  if (entries.length === 0) return;
  const netns = openSync(`/proc/${initPid}/ns/net`, 'r');
  try {
    for (const [hostName, device] of entries) {
      try {
        native.moveNetDevice(hostName, netns, device.name ?? hostName);
      } catch (error) {
        const e = error as { errno?: number; syscall?: string };
        throw new SetupError(`linux.netDevices["${hostName}"]: ${e.syscall ?? 'move'}`, Math.abs(e.errno ?? 5));
      }
    }
  } finally {
    closeSync(netns);
  }
}
