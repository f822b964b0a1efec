// systemd's manager over D-Bus, for the systemd cgroup driver (src/cgroups/systemd.ts):
// transient scope units with properties, stopped and changed later. libsystemd's sd-bus is
// loaded with dlopen on first use, so husk builds and runs without it where systemd is absent.
#pragma once
#include <napi.h>

namespace husk {

void InitSystemdBus(Napi::Env env, Napi::Object exports);

}  // namespace husk
