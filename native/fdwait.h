#pragma once
#include <napi.h>

namespace husk {

// waitReadable(fd) -> Promise<void>: resolves when fd is readable (or hung up),
// watched by libuv so the event loop never blocks. One waiter per fd at a time.
Napi::Value WaitReadable(const Napi::CallbackInfo& info);

// waitAny(fds, timeoutMs = -1) -> Promise<number>: the index of the first fd that
// became readable (or hung up), or -1 once timeoutMs passed; nothing stays watched.
Napi::Value WaitAny(const Napi::CallbackInfo& info);

// syncRecv(fd) -> null (nothing yet) | { type, op, err, value, fd?, payload? }
// type 0 means end of stream: the child exec'd (the socket is close-on-exec) or died.
Napi::Value SyncRecv(const Napi::CallbackInfo& info);

// syncSend(fd, type, value, payload?: Buffer)
Napi::Value SyncSend(const Napi::CallbackInfo& info);

// reap(pidfd) -> null (still running) | { pid, exitCode, signal }
Napi::Value Reap(const Napi::CallbackInfo& info);

}  // namespace husk
