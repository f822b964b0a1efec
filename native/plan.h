// The plan the cloned child interprets: a flat list of ops computed in TypeScript
// (src/plan/), decoded (native/plan_decode.cc) into plain C memory before the clone,
// so that the child only reads memory and makes raw system calls. The ops and
// their fields are declared once, in src/plan/schema.ts: plan_schema.h is generated.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plan_schema.h"

namespace husk {

struct Plan {
  uint64_t clone_flags = 0;
  std::vector<Op> ops;
  int cgroup_fd = -1;  // clone3(CLONE_INTO_CGROUP) target, -1 for none

  // Owns every string and array the ops point into.
  std::vector<std::unique_ptr<char[]>> strings;
  std::vector<std::unique_ptr<char*[]>> string_vectors;
  std::vector<std::unique_ptr<int64_t[]>> number_vectors;

  const char* Keep(const std::string& s);
};

}  // namespace husk
