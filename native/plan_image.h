// The plan as the init reads it: one contiguous image (header, then the ops and every
// string and array they point into), written by the runtime into a sealed memfd and
// mapped by husk-init (native/init_main.cc) at the very address it had in the runtime,
// so the ops' pointers hold as they are. C++ without the library: both sides include it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace husk {

constexpr uint64_t kPlanImageMagic = 0x6e616c706b737568ULL;  // "huskplan"

struct PlanImageHeader {
  uint64_t magic;
  uint64_t base;        // the address the image was built at (and must be mapped at)
  uint64_t size;        // bytes, header included
  uint64_t ops_offset;  // where the Op array starts, from base
  uint64_t op_count;
};

// The fds husk-init is started with (above any --preserve-fds, as native/exec_helper.h's).
constexpr int kInitPlanFd = 912;  // the sealed memfd holding the plan image

}  // namespace husk
