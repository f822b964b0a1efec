#pragma once
#include <napi.h>

namespace husk {

// launch(plan) -> { pid, pidfd, syncFd }: clones a child that runs the plan.
// The parent returns at once; the protocol continues over syncFd (non-blocking,
// SOCK_SEQPACKET, see sync_proto.h) and the exit is awaited through pidfd.
Napi::Value Launch(const Napi::CallbackInfo& info);

// prepareLaunch(): seals husk-exec and husk-init into their memfds on a thread of its own
// (about 700 KB copied), so that the first launch of this process need not wait for it.
// Idempotent; launch does it itself when it was not called.
Napi::Value PrepareLaunch(const Napi::CallbackInfo& info);

}  // namespace husk
