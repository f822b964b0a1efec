// linux.netDevices: moving a network interface into the container's network
// namespace (runtime side, rtnetlink). Exposed as native.moveNetDevice.
#pragma once
#include <napi.h>

namespace husk {

// moveNetDevice(hostName, netnsFd, newName): moves and renames the interface, sets
// it up and gives it back its permanent global addresses; throws a SystemError
// whose syscall names the failed step.
Napi::Value MoveNetDevice(const Napi::CallbackInfo& info);

}  // namespace husk
