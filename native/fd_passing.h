// Building an SCM_RIGHTS message: shared by the child (the pty master to the
// runtime) and the runtime (the pty master to --console-socket). Only memset and
// memcpy: safe between clone and exec.
#pragma once
#include <sys/socket.h>

#include <cstring>

namespace husk {

// Room for one fd's control message.
struct FdControl {
  alignas(struct cmsghdr) char bytes[CMSG_SPACE(sizeof(int))];
};

// Fills `mh` to send `fd` along with the single buffer `iov`.
inline void PrepareFdMessage(struct msghdr* mh, struct iovec* iov, FdControl* control, int fd) {
  memset(control, 0, sizeof *control);
  memset(mh, 0, sizeof *mh);
  mh->msg_iov = iov;
  mh->msg_iovlen = 1;
  mh->msg_control = control->bytes;
  mh->msg_controllen = sizeof control->bytes;
  struct cmsghdr* cm = CMSG_FIRSTHDR(mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

}  // namespace husk
