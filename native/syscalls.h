#pragma once
#include <napi.h>

namespace husk {

// Registers the thin JS wrappers of single system calls and the constants
// (CLONE_NEW*, MS_*, MNT_*, ...). Each wrapper throws SystemError on failure.
void InitSyscalls(Napi::Env env, Napi::Object exports);

}  // namespace husk
