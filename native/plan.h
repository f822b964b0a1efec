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

// One contiguous region of memory that every string and array of the ops is
// allocated from, and the ops themselves at the end (Seal): it is handed to the
// init as one image (native/plan_image.h), mapped there at the same address.
class PlanArena {
 public:
  PlanArena();
  ~PlanArena();
  PlanArena(const PlanArena&) = delete;
  PlanArena& operator=(const PlanArena&) = delete;
  // Zeroed, 16-byte aligned; throws std::length_error past the reserve.
  void* Allocate(size_t bytes);
  char* base() const { return base_; }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t used_;
};

struct Plan {
  uint64_t clone_flags = 0;
  std::vector<Op> ops;
  int cgroup_fd = -1;  // clone3(CLONE_INTO_CGROUP) target, -1 for none

  // Owns every string and array the ops point into.
  PlanArena arena;

  const char* Keep(const std::string& s);
  // Copies the ops after everything they point to and fills in the image header:
  // the arena from its base to used() is the image.
  void Seal();
};

}  // namespace husk
