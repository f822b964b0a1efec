#pragma once
#include <napi.h>

#include "plan.h"

namespace husk {

// Decodes the wire form produced by src/plan/encode.ts:
//   { cloneFlags, cgroupFd?, ops: [{ kind, s?: (string|null)[], n?: number[], v?: string[][], nv?: number[] }] }
// Throws a TypeError naming the op index on malformed input.
std::unique_ptr<Plan> DecodePlan(Napi::Env env, Napi::Object wire);

}  // namespace husk
