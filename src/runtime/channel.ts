import { native } from '../native/index.js';
import { SyncPoint } from '../plan/ops.js';

/** native/sync_proto.h */
const enum WireType {
  Eof = 0,
  Error = 1,
  Point = 2,
  Fd = 3,
  Continue = 4,
  Sibling = 5,
}

/** What an fd the child passes is (native/sync_proto.h SyncFdKind). */
export const enum FdKind {
  PtyMaster = 1,
  SeccompNotify = 2,
}

/** What the child can say (youki-style typed sync messages). */
export type ChildMessage =
  /** The socket closed: the child exec'd (it is close-on-exec) or died. */
  | { type: 'eof' }
  /** Op `op` failed with `errno`; `status` is a wait status for a failed hook. */
  | { type: 'error'; op: number; errno: number; status: number }
  | { type: 'point'; point: SyncPoint }
  /** An fd passed with SCM_RIGHTS (its kind: FdKind). */
  | { type: 'fd'; kind: number; fd: number }
  /**
   * The intermediate cloned the process that goes on with the plan as its sibling (CLONE_PARENT,
   * to enter a pid namespace): our own child, with its pid and pidfd (-1 without clone3). The
   * intermediate exits; the sibling waits for continue().
   */
  | { type: 'sibling'; pid: number; pidfd: number };

/**
 * The runtime's end of the SOCK_SEQPACKET pair shared with a cloned child.
 * Receives without blocking the event loop (libuv watches the fd).
 */
export class SyncChannel {
  private closed = false;
  constructor(private readonly fd: number) {}

  async recv(): Promise<ChildMessage> {
    for (;;) {
      const raw = native.syncRecv(this.fd);
      if (raw !== null) {
        switch (raw.type) {
          case WireType.Eof:
            return { type: 'eof' };
          case WireType.Error:
            return { type: 'error', op: raw.op, errno: raw.err, status: raw.value };
          case WireType.Point:
            return { type: 'point', point: raw.value as SyncPoint };
          case WireType.Fd:
            return { type: 'fd', kind: raw.value, fd: raw.fd ?? -1 };
          case WireType.Sibling:
            return { type: 'sibling', pid: raw.value, pidfd: raw.fd ?? -1 };
          default:
            throw new Error(`sync channel: unexpected message type ${raw.type}`);
        }
      }
      await native.waitReadable(this.fd);
    }
  }

  /** Lets the child go on past a sync point; the payload reaches its hooks' stdin. */
  continue(payload?: Buffer): void {
    native.syncSend(this.fd, WireType.Continue, 0, payload);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.closeRange(this.fd, this.fd);
  }
}
