// The typed messages exchanged over the SOCK_SEQPACKET pair between the runtime
// (parent) and the child it cloned. One message per packet; a payload may follow
// the header (the parent's CONTINUE can carry the container state for hooks).
#pragma once
#include <cstdint>

namespace husk {

enum SyncType : uint32_t {
  kSyncError = 1,     // child -> parent: op `op` failed with errno `err`; the child exits
  kSyncPoint = 2,     // child -> parent: reached sync point `value`; waits for kSyncContinue
  kSyncFd = 3,        // child -> parent: an fd is attached (SCM_RIGHTS), `value` says which
  kSyncContinue = 4,  // parent -> child: go on; `value` = payload length after the header
  kSyncSibling = 5,   // intermediate -> parent: it cloned the process that goes on (CLONE_PARENT,
                      // so the parent's own child): its pidfd attached (SCM_RIGHTS, unless the
                      // kernel lacks clone3), `value` = its pid; the intermediate exits, the
                      // sibling waits for kSyncContinue
};

// What an fd passed with kSyncFd is (its `value`).
enum SyncFdKind : int32_t {
  kFdPtyMaster = 1,      // the console pty master
  kFdSeccompNotify = 2,  // the seccomp notify fd (SECCOMP_FILTER_FLAG_NEW_LISTENER), for listenerPath
};

struct SyncMsg {
  uint32_t type;
  int32_t op;     // index of the plan op concerned, -1 for none
  int32_t err;    // errno (positive) for kSyncError
  int32_t value;  // sync point id, fd kind, or payload length
};

constexpr int kSyncMaxPayload = 64 * 1024;

}  // namespace husk
