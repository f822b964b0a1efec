// Errors thrown to JavaScript, shaped like Node's own system errors:
// { code: 'EPERM', errno: -1, syscall: 'mount', path: '/x', dest?: '/y' }.
#pragma once
#include <napi.h>

namespace husk {

// "EPERM" for EPERM; "E123" for a number glibc does not name.
const char* ErrnoName(int err);

// An Error whose message names the errno, the operation and the path(s):
// "EPERM: operation not permitted, mount 'proc' -> '/proc'".
Napi::Error SystemError(Napi::Env env, int err, const char* syscall,
                        const char* path = nullptr, const char* dest = nullptr);

// Throws SystemError(errno, ...) as a JS exception (node-addon-api C++ exceptions).
[[noreturn]] void ThrowErrno(Napi::Env env, const char* syscall,
                             const char* path = nullptr, const char* dest = nullptr);

}  // namespace husk
