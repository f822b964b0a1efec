import { type Launched, native, type WirePlan } from '../native/index.js';
import { describeOp, type Plan, type PlanOp, SyncPoint } from '../plan/ops.js';
import { SyncChannel } from './channel.js';
import { ChildHandle } from './child.js';
import { runcPhrase, SetupError } from './errors.js';

export interface LaunchHandlers {
  /** The child, right after the clone (before any sync point). */
  onClone?(child: ChildHandle): void;
  /**
   * The child waits at `point` until this resolves; what it returns is handed
   * to the child (the state JSON for its startContainer hooks).
   */
  onSyncPoint?(point: SyncPoint, child: ChildHandle): Promise<Buffer | void> | Buffer | void;
  /** An fd the child passed (the console pty master). Owned by the handler. */
  onFd?(kind: number, fd: number): void;
  /**
   * The pid of the process that will exec, when it is not the child first cloned: a sibling of
   * that child cloned into a pid namespace, and our own child like it (the first one is gone).
   */
  onPid?(pid: number): void;
  /** Stop listening after this point: the child goes on alone (to its start gate). */
  lastPoint?: SyncPoint;
}

/**
 * Who clones the child, and how its ops are named in errors: the runtime's addon
 * by default; the escape lab brings its own (src/lab/native.ts), whose
 * interpreter also knows the lab's ops.
 */
export interface Interpreter<Op extends { kind: string }> {
  launch(plan: WirePlan): Launched;
  describe(op: Op): string;
}

const runtimeInterpreter: Interpreter<PlanOp> = { launch: (plan) => native.launch(plan), describe: describeOp };

/**
 * Clones a child that runs `plan` and drives the sync protocol until the child
 * has exec'd (or reached `lastPoint`). On any failure the child is killed and
 * reaped before the error is thrown, so nothing is left running.
 */
export async function launchPlan(plan: Plan, handlers?: LaunchHandlers, cgroupFd?: number): Promise<ChildHandle>;
export async function launchPlan<Op extends { kind: string }>(
  plan: Plan<Op>,
  handlers: LaunchHandlers | undefined,
  cgroupFd: number | undefined,
  interpreter: Interpreter<Op>,
): Promise<ChildHandle>;
export async function launchPlan(
  plan: Plan<{ kind: string }>,
  handlers: LaunchHandlers = {},
  cgroupFd?: number,
  interpreter: Interpreter<never> = runtimeInterpreter as Interpreter<never>,
): Promise<ChildHandle> {
  // The ops go as they are: the addon decodes them by the schema (src/plan/schema.ts).
  const launched = interpreter.launch(cgroupFd === undefined ? plan : { ...plan, cgroupFd });
  /** The process running the plan: the child cloned, then the sibling it clones (op `clone_sibling`). */
  let child = new ChildHandle(launched.pid, launched.pidfd);
  const channel = new SyncChannel(launched.syncFd);
  try {
    handlers.onClone?.(child);
    for (;;) {
      const msg = await channel.recv();
      if (msg.type === 'eof') {
        if (handlers.lastPoint === undefined) return child; // the socket is close-on-exec: it exec'd
        // It was to stop at lastPoint: it died first without a word (a signal: SIGSYS from a
        // seccomp profile, SIGKILL from the OOM killer...).
        const exit = await child.wait();
        throw new SetupError('set up the container', 10 /* ECHILD */, `the child died before it was ready (${exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.exitCode}`})`);
      }
      if (msg.type === 'error') {
        const op = plan.ops[msg.op];
        const step = op === undefined ? 'set up the child' : interpreter.describe(op as never);
        const detail = msg.status !== 0 ? describeWaitStatus(msg.status) : op !== undefined ? errorDetail(op, msg.errno) : undefined;
        await child.wait();
        throw new SetupError(step, msg.errno, detail, op?.kind);
      }
      if (msg.type === 'sibling') {
        const intermediate = child;
        child = new ChildHandle(msg.pid, msg.pidfd >= 0 ? msg.pidfd : native.pidfdOpen(msg.pid));
        // It exits right after cloning: reaped before the sibling goes on, it leaves nothing
        // behind (in the container's cgroup, in `ps`).
        await intermediate.wait();
        handlers.onPid?.(msg.pid);
        channel.continue();
        continue;
      }
      if (msg.type === 'fd') {
        if (handlers.onFd) handlers.onFd(msg.kind, msg.fd);
        else native.closeRange(msg.fd, msg.fd);
        continue;
      }
      const payload = await handlers.onSyncPoint?.(msg.point, child);
      channel.continue(payload ?? undefined);
      if (msg.point === handlers.lastPoint) return child;
    }
  } catch (error) {
    child.kill('SIGKILL');
    await child.wait();
    throw error;
  } finally {
    channel.close();
  }
}

/**
 * runc's words where engines read them: a command missing from $PATH is "executable file
 * not found in $PATH" (podman's exec answers 127 for it; ENOENT's own "no such file or
 * directory" serves a path with a slash).
 */
function errorDetail(op: { kind: string }, errno: number): string | undefined {
  if (op.kind === 'hook' && errno === 110 /* ETIMEDOUT */) return `timed out after ${(op as Extract<PlanOp, { kind: 'hook' }>).timeout}s`;
  const file = op.kind === 'resolve_exec' ? (op as Extract<PlanOp, { kind: 'resolve_exec' }>).file : undefined;
  if (file !== undefined && errno === 2 /* ENOENT */ && !file.includes('/')) return `${runcPhrase.pathLookup} (ENOENT)`;
  return undefined;
}

function describeWaitStatus(status: number): string {
  const signal = status & 0x7f;
  return signal === 0 ? `exited with status ${(status >> 8) & 0xff}` : `killed by signal ${signal}`;
}
