// The escape lab's probe (`husk escape-lab`): escape attempts run by the jailed
// child itself, in place of the exec that would end a real plan. Called from
// the child's plan interpreter (child.cc), so async-signal-safe like it: raw
// syscalls and static buffers only, no allocation, no stdio.
//
// The op escape_probe (src/plan/schema.ts):
//   probe 0 (kEscapePlantFd): open path (a directory) WITHOUT O_CLOEXEC and keep
//          it, as a runtime that leaks an fd into its child would; returns.
//   probe 1..4 (an EscapeAttempt): first do to the fd table what execve would
//          (close every close-on-exec fd), then try to read the marker file path
//          (as the host sees it) from outside the jail. host_pid = a host pid
//          (the lab's) whose /proc/<pid>/root leads to the host's root;
//          host_mount_ns_inode = the inode of the lab's mount namespace (the probe
//          never detaches "/" in it).
//          Writes ONE line to fd 1 and _exits:
//            "escaped <step> <first line of the marker>\n"
//            "held <ERRNO_NAME> <step>\n"
#pragma once
#ifndef HUSK_LAB_OPS
#error "the escape probe belongs to the escape lab's addon only (binding.gyp husk_lab)"
#endif
#include "plan_schema.h"

namespace husk {

enum EscapeProbe : int64_t {
  kEscapePlantFd = 0,
  kEscapeClassic = 1,    // mkdir, chroot into it, walk ".." from the stale cwd, chroot(".")
  kEscapeLeakedFd = 2,   // fchdir to the planted fd
  kEscapeProcRoot = 3,   // /proc/<host pid>/root, then /proc/1/root (mounting proc if need be)
  kEscapeMountNs = 4,    // detach the jail's root mount, setns into our own mount namespace
};

// Plant: returns 0, or -1 with errno set. Attempts never return.
int RunEscapeProbe(const EscapeProbeOp& op) noexcept;

}  // namespace husk
