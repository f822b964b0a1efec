#include "notify_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "fd_passing.h"
#include "unix_socket.h"

namespace husk {
namespace {

std::string StrArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

// unixDgramBind(path) -> fd: a non-blocking, close-on-exec datagram socket bound to path.
Napi::Value UnixDgramBind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 0, "path");
  struct sockaddr_un addr;
  socklen_t len = FillUnixAddress(env, path, &addr, "bind");
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, "socket");
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), len) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    ThrowErrno(env, "bind", path.c_str());
  }
  return Napi::Number::New(env, fd);
}

// unixDgramRecv(fd) -> Buffer | null (nothing to read yet).
Napi::Value UnixDgramRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n >= 0) return Napi::Buffer<char>::Copy(env, buf, static_cast<size_t>(n));
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, "recv");
  }
}

// unixDgramSend(path, data, fd = -1): one datagram to the socket at path, with fd
// attached (SCM_RIGHTS) when given.
Napi::Value UnixDgramSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StrArg(info, 0, "path");
  std::string data = StrArg(info, 1, "data");
  int pass = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : -1;
  struct sockaddr_un addr;
  socklen_t len = FillUnixAddress(env, path, &addr, "sendmsg");
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) ThrowErrno(env, "socket");
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr mh;
  FdControl control;
  if (pass >= 0) {
    PrepareFdMessage(&mh, &iov, &control, pass);
  } else {
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
  }
  mh.msg_name = &addr;
  mh.msg_namelen = len;
  SendMessageAndClose(env, sock, &mh, path);
  return env.Undefined();
}

// pipe() -> [readFd, writeFd], both close-on-exec, the read end non-blocking.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) ThrowErrno(env, "pipe2");
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, fds[0]);
  out.Set(1u, fds[1]);
  return out;
}

}  // namespace

void InitNotifySocket(Napi::Env env, Napi::Object exports) {
  exports.Set("unixDgramBind", Napi::Function::New(env, UnixDgramBind, "unixDgramBind"));
  exports.Set("unixDgramRecv", Napi::Function::New(env, UnixDgramRecv, "unixDgramRecv"));
  exports.Set("unixDgramSend", Napi::Function::New(env, UnixDgramSend, "unixDgramSend"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
}

}  // namespace husk
