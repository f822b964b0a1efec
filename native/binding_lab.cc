// The escape lab's addon (`husk escape-lab`, src/lab/native.ts): the plan launcher
// with the lab's own ops compiled in (HUSK_LAB_OPS: escape_probe, which plants a
// leaked fd and runs escape attempts in place of exec). The runtime's addon
// (binding.cc) has no such op.
#include <napi.h>

#include "launch.h"

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("launch", Napi::Function::New(env, husk::Launch, "launch"));
  return exports;
}
NODE_API_MODULE(husk_lab, InitModule)
