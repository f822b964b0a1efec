/**
 * The vocabulary of the child's plan: each op is one step the cloned child takes
 * with raw system calls (native/child.cc). TypeScript decides everything; the
 * child only executes. Ops are plain data, so a plan can be unit-tested, printed
 * with --debug, and its failing step named precisely.
 */

/** How a path is resolved by the child (native/plan.h PathMode). */
export type PathMode =
  | 'as-is' // as the kernel resolves it from the child's cwd and root
  | 'in-root' // inside the rootfs: symlinks and ".." cannot lead out (openat2 RESOLVE_IN_ROOT)
  | 'in-root-mkdir' // as in-root, creating missing directories (a file for a bind of a file)
  | 'in-root-file'; // as in-root, creating missing parents and an empty file

/** Where the child stops and waits for the runtime (the parent) to act. */
export enum SyncPoint {
  /** Right after clone: the parent places the child in its cgroups and writes its id maps. */
  AfterClone = 1,
  /** Namespaces and mounts are ready, before pivot_root: createRuntime/createContainer hooks. */
  CreateHooks = 2,
  /** Everything is set up; the child will wait at the start gate next. The parent records state. */
  Ready = 3,
  /** The child has just made a new user namespace (unshare): the parent writes its id maps. */
  IdMaps = 4,
}

export type PlanOp =
  | { kind: 'unshare'; flags: number; what: string }
  | { kind: 'setns'; path: string; nstype: number; what: string }
  | { kind: 'sync'; point: SyncPoint }
  | { kind: 'enter_rootfs'; path: string }
  | {
      kind: 'mount';
      source: string | null;
      target: string;
      fstype: string | null;
      flags: number;
      data: string | null;
      targetMode: PathMode;
      sourceInRoot?: boolean;
    }
  | { kind: 'remount'; target: string; flags: number; clearFlags: number; targetMode: PathMode }
  | { kind: 'mknod'; path: string; mode: number; dev: number; uid: number; gid: number }
  | { kind: 'symlink'; target: string; path: string }
  | { kind: 'mkdir'; path: string }
  | { kind: 'mask'; path: string }
  | { kind: 'readonly'; path: string }
  | { kind: 'pivot_root' }
  | { kind: 'move_chroot' }
  | { kind: 'chroot'; path: string; chdir: boolean }
  | { kind: 'chdir'; path: string; verifyInRoot: boolean }
  | { kind: 'sethostname'; name: string }
  | { kind: 'setdomainname'; name: string }
  | { kind: 'write_file'; path: string; content: string; create: boolean }
  | { kind: 'rlimit'; name: string; resource: number; soft: number; hard: number }
  | { kind: 'setgroups'; gids: number[] }
  | { kind: 'setuser'; uid: number; gid: number }
  | { kind: 'bounding'; keep: number; lastCap: number }
  | { kind: 'caps'; effective: number; permitted: number; inheritable: number; ambient: number }
  | { kind: 'no_new_privs' }
  /** Installs a seccomp filter (src/seccomp/compile.ts): flags = SECCOMP_FILTER_FLAG_*, filter = packFilter(). */
  | { kind: 'seccomp'; flags: number; filter: number[] }
  | { kind: 'umask'; mask: number }
  | { kind: 'setsid' }
  | { kind: 'pdeathsig'; signal: number }
  | { kind: 'dumpable'; value: 0 | 1 }
  | { kind: 'open_pty' }
  | { kind: 'open_gate'; path: string }
  | { kind: 'wait_gate' }
  | { kind: 'hook'; name: string; path: string; args: string[]; env: string[]; timeout: number }
  | { kind: 'stdio'; fds: [number, number, number] }
  | { kind: 'close_fds'; preserve: number }
  | { kind: 'resolve_exec'; file: string; env: string[] }
  | { kind: 'exec'; file: string; args: string[]; env: string[] }
  /**
   * husk escape-lab only (native/escape_probe.h): probe 0 plants a leaked fd to the
   * directory `path`; probes 1-4 run an escape attempt against the marker file `path`
   * (host path) in place of exec, write one result line to fd 1 and exit.
   */
  /** husk exec: run the rest of the plan in a grandchild, which enters the joined pid namespace. */
  | { kind: 'fork' }
  | { kind: 'escape_probe'; probe: number; path: string; hostPid: number; hostMountNsInode: number };

export interface Plan {
  /** Namespaces created by clone3 itself (CLONE_NEW*). */
  cloneFlags: number;
  ops: PlanOp[];
}

/** A human description of an op, used in errors: "mount proc on /proc". */
export function describeOp(op: PlanOp): string {
  switch (op.kind) {
    case 'unshare':
      return `unshare(${op.what})`;
    case 'setns':
      return `setns(${op.what}) into ${op.path}`;
    case 'sync':
      return `wait for the runtime (${SyncPoint[op.point]})`;
    case 'enter_rootfs':
      return `enter rootfs ${op.path}`;
    case 'mount':
      return op.source === null
        ? `set mount propagation of ${op.target}`
        : `mount ${op.fstype ?? 'bind'} ${op.source} on ${op.target}`;
    case 'remount':
      return `remount ${op.target}`;
    case 'mknod':
      return `mknod ${op.path}`;
    case 'symlink':
      return `symlink ${op.path} -> ${op.target}`;
    case 'mkdir':
      return `mkdir ${op.path}`;
    case 'mask':
      return `mask ${op.path}`;
    case 'readonly':
      return `make ${op.path} read-only`;
    case 'pivot_root':
      return 'pivot_root into the rootfs';
    case 'move_chroot':
      return 'move the rootfs to / and chroot (--no-pivot)';
    case 'chroot':
      return `chroot ${op.path}`;
    case 'chdir':
      return `chdir to ${op.path}`;
    case 'sethostname':
      return `sethostname ${op.name}`;
    case 'setdomainname':
      return `setdomainname ${op.name}`;
    case 'write_file':
      return `write ${op.path}`;
    case 'rlimit':
      return `setrlimit ${op.name}`;
    case 'setgroups':
      return `setgroups [${op.gids.join(',')}]`;
    case 'setuser':
      return `set uid ${op.uid} gid ${op.gid}`;
    case 'bounding':
      return 'drop capabilities from the bounding set';
    case 'caps':
      return 'set capabilities';
    case 'no_new_privs':
      return 'set no_new_privs';
    case 'seccomp':
      return `install the seccomp filter (${op.filter.length / 2} instructions)`;
    case 'umask':
      return `umask ${op.mask.toString(8)}`;
    case 'setsid':
      return 'setsid';
    case 'pdeathsig':
      return 'set the parent-death signal';
    case 'dumpable':
      return 'set dumpable';
    case 'open_pty':
      return 'open the console pty';
    case 'open_gate':
      return `open the start gate ${op.path}`;
    case 'wait_gate':
      return 'wait at the start gate';
    case 'hook':
      return `${op.name} hook ${op.path}`;
    case 'stdio':
      return 'set up stdio';
    case 'close_fds':
      return 'close inherited fds';
    case 'resolve_exec':
      return `find executable "${op.file}"`;
    case 'exec':
      return `exec ${op.file}`;
    case 'fork':
      return 'fork into the pid namespace';
    case 'escape_probe':
      return op.probe === 0 ? `leak an fd to ${op.path}` : `escape attempt ${op.probe} against ${op.path}`;
  }
}
