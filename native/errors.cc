#include "errors.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace husk {

const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);  // glibc >= 2.32
  if (name != nullptr) return name;
  static thread_local char buf[16];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const char* path,
                        const char* dest) {
  std::string msg = std::string(ErrnoName(err)) + ": " + strerror(err) + ", " + syscall;
  if (path != nullptr) msg += std::string(" '") + path + "'";
  if (dest != nullptr) msg += std::string(" -> '") + dest + "'";
  Napi::Error error = Napi::Error::New(env, msg);
  Napi::Object obj = error.Value();
  obj.Set("code", ErrnoName(err));
  obj.Set("errno", -err);  // negative, as libuv and Node report it
  obj.Set("syscall", syscall);
  if (path != nullptr) obj.Set("path", path);
  if (dest != nullptr) obj.Set("dest", dest);
  return error;
}

void ThrowErrno(Napi::Env env, const char* syscall, const char* path, const char* dest) {
  throw SystemError(env, errno, syscall, path, dest);
}

}  // namespace husk
