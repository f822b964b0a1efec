#include "fdwait.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"
#include "sync_proto.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace husk {
namespace {

struct PollRequest {
  uv_poll_t handle;
  Napi::Promise::Deferred deferred;
  explicit PollRequest(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void OnPollClosed(uv_handle_t* handle) { delete static_cast<PollRequest*>(handle->data); }

void OnPollEvent(uv_poll_t* handle, int status, int events) {
  auto* request = static_cast<PollRequest*>(handle->data);
  Napi::Env env = request->deferred.Env();
  Napi::HandleScope scope(env);
  uv_poll_stop(handle);
  if (status < 0) {
    Napi::Error error = Napi::Error::New(env, std::string("poll: ") + uv_strerror(status));
    request->deferred.Reject(error.Value());
  } else {
    request->deferred.Resolve(env.Undefined());
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), OnPollClosed);
}

}  // namespace

Napi::Value WaitReadable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  auto* request = new PollRequest(env);
  request->handle.data = request;
  int rc = uv_poll_init(loop, &request->handle, fd);
  if (rc < 0) {
    delete request;
    throw SystemError(env, -rc, "uv_poll_init");
  }
  rc = uv_poll_start(&request->handle, UV_READABLE | UV_DISCONNECT, OnPollEvent);
  if (rc < 0) {
    Napi::Promise promise = request->deferred.Promise();
    request->deferred.Reject(SystemError(env, -rc, "uv_poll_start").Value());
    uv_close(reinterpret_cast<uv_handle_t*>(&request->handle), OnPollClosed);
    return promise;
  }
  return request->deferred.Promise();
}

namespace {

// One waitAny call: a poll handle per fd and a timer; the first to fire settles the
// promise and closes them all, so nothing stays watched (or keeps the loop alive).
struct AnyRequest {
  Napi::Promise::Deferred deferred;
  std::vector<uv_poll_t*> polls;
  uv_timer_t* timer = nullptr;
  int open_handles = 0;
  bool settled = false;
  explicit AnyRequest(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

struct AnySlot {
  AnyRequest* request;
  int index;  // -1 for the timer
};

void OnAnyClosed(uv_handle_t* handle) {
  auto* slot = static_cast<AnySlot*>(handle->data);
  AnyRequest* request = slot->request;
  delete slot;
  if (handle->type == UV_TIMER) delete reinterpret_cast<uv_timer_t*>(handle);
  else delete reinterpret_cast<uv_poll_t*>(handle);
  if (--request->open_handles == 0) delete request;
}

void SettleAny(AnyRequest* request, int index) {
  if (request->settled) return;
  request->settled = true;
  Napi::Env env = request->deferred.Env();
  Napi::HandleScope scope(env);
  request->deferred.Resolve(Napi::Number::New(env, index));
  for (uv_poll_t* poll : request->polls) {
    uv_poll_stop(poll);
    uv_close(reinterpret_cast<uv_handle_t*>(poll), OnAnyClosed);
  }
  if (request->timer != nullptr) {
    uv_timer_stop(request->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(request->timer), OnAnyClosed);
  }
}

void OnAnyPoll(uv_poll_t* handle, int status, int events) {
  auto* slot = static_cast<AnySlot*>(handle->data);
  SettleAny(slot->request, slot->index);
}

void OnAnyTimer(uv_timer_t* handle) {
  auto* slot = static_cast<AnySlot*>(handle->data);
  SettleAny(slot->request, -1);
}

}  // namespace

Napi::Value WaitAny(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array fds = info[0].As<Napi::Array>();
  int64_t timeout_ms = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : -1;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  auto* request = new AnyRequest(env);
  Napi::Promise promise = request->deferred.Promise();
  for (uint32_t i = 0; i < fds.Length(); i++) {
    int fd = fds.Get(i).As<Napi::Number>().Int32Value();
    auto* poll = new uv_poll_t;
    int rc = uv_poll_init(loop, poll, fd);
    if (rc < 0) {
      delete poll;
      if (request->open_handles == 0) {
        delete request;
        throw SystemError(env, -rc, "uv_poll_init");
      }
      request->deferred.Reject(SystemError(env, -rc, "uv_poll_init").Value());
      request->settled = true;
      for (uv_poll_t* p : request->polls) uv_close(reinterpret_cast<uv_handle_t*>(p), OnAnyClosed);
      return promise;
    }
    poll->data = new AnySlot{request, static_cast<int>(i)};
    request->polls.push_back(poll);
    request->open_handles++;
    uv_poll_start(poll, UV_READABLE | UV_DISCONNECT, OnAnyPoll);
  }
  if (timeout_ms >= 0) {
    request->timer = new uv_timer_t;
    uv_timer_init(loop, request->timer);
    request->timer->data = new AnySlot{request, -1};
    request->open_handles++;
    uv_timer_start(request->timer, OnAnyTimer, static_cast<uint64_t>(timeout_ms), 0);
  }
  if (request->open_handles == 0) {
    delete request;
    throw Napi::TypeError::New(env, "waitAny needs an fd or a timeout");
  }
  return promise;
}

Napi::Value SyncRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::vector<char> buf(sizeof(SyncMsg) + kSyncMaxPayload);
  struct iovec iov = {buf.data(), buf.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr mh = {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    if (errno != ECONNRESET) ThrowErrno(env, "recvmsg");
    n = 0;
  }
  Napi::Object msg = Napi::Object::New(env);
  if (n == 0) {
    msg.Set("type", 0);
    return msg;
  }
  if (n < static_cast<ssize_t>(sizeof(SyncMsg))) throw Napi::Error::New(env, "sync: short message");
  SyncMsg header;
  memcpy(&header, buf.data(), sizeof header);
  msg.Set("type", header.type);
  msg.Set("op", header.op);
  msg.Set("err", header.err);
  msg.Set("value", header.value);
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm != nullptr; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      int received;
      memcpy(&received, CMSG_DATA(cm), sizeof received);
      msg.Set("fd", received);
    }
  }
  if (n > static_cast<ssize_t>(sizeof(SyncMsg))) {
    msg.Set("payload", Napi::Buffer<char>::Copy(env, buf.data() + sizeof(SyncMsg), n - sizeof(SyncMsg)));
  }
  return msg;
}

Napi::Value SyncSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  SyncMsg header{info[1].As<Napi::Number>().Uint32Value(), -1, 0, 0};
  std::vector<char> buf(sizeof header);
  if (info.Length() > 3 && info[3].IsBuffer()) {
    Napi::Buffer<char> payload = info[3].As<Napi::Buffer<char>>();
    if (payload.Length() > static_cast<size_t>(kSyncMaxPayload)) throw Napi::RangeError::New(env, "sync payload too large");
    buf.insert(buf.end(), payload.Data(), payload.Data() + payload.Length());
    header.value = static_cast<int32_t>(payload.Length());
  } else if (info.Length() > 2 && info[2].IsNumber()) {
    header.value = info[2].As<Napi::Number>().Int32Value();
  }
  memcpy(buf.data(), &header, sizeof header);
  ssize_t n;
  do {
    n = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, "send");
  return env.Undefined();
}

Napi::Value Reap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  siginfo_t si = {};
  int rc;
  do {
    rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED | WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, "waitid");
  if (si.si_pid == 0) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", si.si_pid);
  if (si.si_code == CLD_EXITED) {
    result.Set("exitCode", si.si_status);
    result.Set("signal", env.Null());
  } else {
    result.Set("exitCode", env.Null());
    result.Set("signal", si.si_status);
  }
  return result;
}

}  // namespace husk
