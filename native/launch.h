#pragma once
#include <napi.h>

namespace husk {

// launch(plan) -> { pid, pidfd, syncFd }: clones a child that runs the plan.
// The parent returns at once; the protocol continues over syncFd (non-blocking,
// SOCK_SEQPACKET, see sync_proto.h) and the exit is awaited through pidfd.
Napi::Value Launch(const Napi::CallbackInfo& info);

}  // namespace husk
