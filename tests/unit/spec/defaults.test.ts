import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, defaultSpec, formatSpec } from '../../../src/spec/defaults.js';
import { validateSpec } from '../../../src/spec/validate.js';

/**
 * What `runc spec` writes on a cgroup v1/hybrid host (runc 1.3,
 * libcontainer/specconv/example.go Example(), runtime-spec 1.2.1),
 * transcribed key for key in Go's field order.
 */
const runcSpecText = readFileSync(new URL('./fixtures/runc-spec.json', import.meta.url), 'utf8');

describe('defaultSpec', () => {
  it('validates', () => {
    expect(() => validateSpec(defaultSpec({ cgroupNamespace: false }))).not.toThrow();
    expect(() => validateSpec(defaultSpec({ cgroupNamespace: true }))).not.toThrow();
    expect(() => validateSpec(defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1000 }))).not.toThrow();
  });

  it("is runc's default, byte for byte, but for hostname and ociVersion", () => {
    const husk = formatSpec(defaultSpec({ cgroupNamespace: false }));
    const expected = runcSpecText.replace('"ociVersion": "1.2.1"', '"ociVersion": "1.2.0"').replace('"hostname": "runc"', '"hostname": "husk"');
    expect(husk).toBe(expected);
  });

  it("matches runc's important fields", () => {
    const runc = JSON.parse(runcSpecText);
    const spec = defaultSpec({ cgroupNamespace: false });
    expect(spec.ociVersion).toBe('1.2.0');
    expect(spec.hostname).toBe('husk');
    expect(spec.linux!.namespaces).toEqual(runc.linux.namespaces);
    expect(spec.linux!.namespaces!.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(spec.mounts).toEqual(runc.mounts);
    expect(spec.mounts!.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    expect(spec.linux!.maskedPaths).toEqual(runc.linux.maskedPaths);
    expect(spec.linux!.readonlyPaths).toEqual(runc.linux.readonlyPaths);
    expect(DEFAULT_MASKED_PATHS).toContain('/proc/kcore');
    expect(DEFAULT_READONLY_PATHS).toContain('/proc/sys');
    expect(spec.process!.capabilities).toEqual(runc.process.capabilities);
    expect(spec.process!.capabilities!.bounding).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(spec.process!.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    expect(spec.process!.noNewPrivileges).toBe(true);
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.linux!.resources).toEqual({ devices: [{ allow: false, access: 'rwm' }] });
  });

  it('adds a cgroup namespace on cgroup v2 hosts, as runc', () => {
    const types = defaultSpec({ cgroupNamespace: true }).linux!.namespaces!.map((n) => n.type);
    expect(types).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
  });

  it('takes args and terminal', () => {
    const spec = defaultSpec({ args: ['/bin/echo', 'hi'], terminal: false, cgroupNamespace: false });
    expect(spec.process!.args).toEqual(['/bin/echo', 'hi']);
    // Go's omitempty drops a false terminal.
    expect('terminal' in spec.process!).toBe(false);
  });

  it('returns a fresh object each time', () => {
    const a = defaultSpec({ cgroupNamespace: false });
    a.mounts!.pop();
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    const b = defaultSpec({ cgroupNamespace: false });
    expect(b.mounts).toHaveLength(7);
    expect(b.process!.capabilities!.bounding).toHaveLength(3);
  });

  it('has the `runc spec --rootless` variant', () => {
    const spec = defaultSpec({ rootless: true, hostUid: 1000, hostGid: 100, cgroupNamespace: false });
    expect(spec.linux!.namespaces!.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'user']);
    expect(spec.linux!.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(spec.linux!.gidMappings).toEqual([{ containerID: 0, hostID: 100, size: 1 }]);
    expect(spec.linux!.resources).toBeUndefined();
    expect(spec.mounts!.find((m) => m.destination === '/sys')).toEqual({
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    expect(spec.mounts!.find((m) => m.destination === '/dev/pts')!.options).toEqual([
      'nosuid',
      'noexec',
      'newinstance',
      'ptmxmode=0666',
      'mode=0620',
    ]);
    expect(spec.mounts!.find((m) => m.destination === '/proc')).toEqual({ destination: '/proc', type: 'proc', source: 'proc' });
    // runc's key order: mappings first.
    expect(Object.keys(spec.linux!)).toEqual(['uidMappings', 'gidMappings', 'namespaces', 'maskedPaths', 'readonlyPaths']);
  });

  it('maps the caller in the rootless variant by default', () => {
    const spec = defaultSpec({ rootless: true, cgroupNamespace: false });
    expect(spec.linux!.uidMappings![0]!.hostID).toBe(process.geteuid!());
    expect(spec.linux!.gidMappings![0]!.hostID).toBe(process.getegid!());
  });
});

describe('formatSpec', () => {
  it("writes Go's MarshalIndent: tabs, no trailing newline, HTML characters escaped", () => {
    const text = formatSpec(defaultSpec({ args: ['sh', '-c', 'a && b > c < d'], cgroupNamespace: false }));
    expect(text.startsWith('{\n\t"ociVersion": "1.2.0",\n\t"process": {\n\t\t"terminal": true,')).toBe(true);
    expect(text.endsWith('\n}')).toBe(true);
    expect(text).toContain('"a \\u0026\\u0026 b \\u003e c \\u003c d"');
    expect(JSON.parse(text).process.args[2]).toBe('a && b > c < d');
  });
});
