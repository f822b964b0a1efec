#pragma once
#include <napi.h>

namespace husk {

// mountOverlay: an overlayfs built with the new mount API (fsopen/fsconfig/fsmount).
void InitOverlay(Napi::Env env, Napi::Object exports);

}  // namespace husk
