// The addon's JavaScript surface: system-call primitives, the plan launcher and
// the event-loop-friendly waiting that goes with it. Typed in src/native/.
#include <napi.h>

#include "cgroup_devices.h"
#include "fdwait.h"
#include "in_root.h"
#include "launch.h"
#include "netdev.h"
#include "notify_socket.h"
#include "overlay.h"
#include "syscalls.h"
#include "systemd_bus.h"

namespace husk {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitSyscalls(env, exports);
  InitCgroupDevices(env, exports);
  InitSystemdBus(env, exports);
  InitNotifySocket(env, exports);
  InitInRoot(env, exports);
  InitOverlay(env, exports);
  exports.Set("launch", Napi::Function::New(env, Launch, "launch"));
  exports.Set("prepareLaunch", Napi::Function::New(env, PrepareLaunch, "prepareLaunch"));
  exports.Set("moveNetDevice", Napi::Function::New(env, MoveNetDevice, "moveNetDevice"));
  exports.Set("waitReadable", Napi::Function::New(env, WaitReadable, "waitReadable"));
  exports.Set("waitAny", Napi::Function::New(env, WaitAny, "waitAny"));
  exports.Set("syncRecv", Napi::Function::New(env, SyncRecv, "syncRecv"));
  exports.Set("syncSend", Napi::Function::New(env, SyncSend, "syncSend"));
  exports.Set("reap", Napi::Function::New(env, Reap, "reap"));
  return exports;
}

}  // namespace husk

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return husk::Init(env, exports); }
NODE_API_MODULE(husk, InitModule)
