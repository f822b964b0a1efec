#include "seccomp_filter.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace husk {
namespace {

// Static: the child allocates nothing after clone.
sock_filter g_filter[BPF_MAXINSNS];

}  // namespace

int InstallSeccompFilter(const SeccompOp& op) noexcept {
  if (op.filter_len % 2 != 0 || op.filter_len / 2 > BPF_MAXINSNS || op.filter_len == 0) {
    errno = EINVAL;
    return -1;
  }
  const int count = static_cast<int>(op.filter_len / 2);
  for (int i = 0; i < count; i++) {
    const uint64_t head = static_cast<uint64_t>(op.filter[2 * i]);
    g_filter[i].code = static_cast<uint16_t>(head & 0xffff);
    g_filter[i].jt = static_cast<uint8_t>((head >> 16) & 0xff);
    g_filter[i].jf = static_cast<uint8_t>((head >> 24) & 0xff);
    g_filter[i].k = static_cast<uint32_t>(op.filter[2 * i + 1]);
  }
  sock_fprog prog = {};
  prog.len = static_cast<unsigned short>(count);
  prog.filter = g_filter;
  return static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, static_cast<unsigned>(op.flags), &prog));
}

}  // namespace husk
