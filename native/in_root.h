#pragma once
#include <napi.h>

namespace husk {

// inRoot* (file operations confined to a root fd, for unpacking layers) and lgetxattr.
void InitInRoot(Napi::Env env, Napi::Object exports);

}  // namespace husk
