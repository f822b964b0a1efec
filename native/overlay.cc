// An overlay mount built with the new mount API: each lower layer is its own
// fsconfig("lowerdir+") call (Linux 6.8+), so the number of layers is not bound
// by the page-size limit of mount(2)'s option string. On an older kernel the
// layers go in one "lowerdir=" string, which fails plainly when too long.
#include "overlay.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "errors.h"

namespace husk {
namespace {

int Fsconfig(int fd, unsigned cmd, const char* key, const char* value) {
  return static_cast<int>(syscall(SYS_fsconfig, fd, cmd, key, value, 0));
}

// The kernel's own words for a failed fsconfig, read from the fs context fd ("e overlayfs: ...").
std::string KernelLog(int fd) {
  std::string all;
  char buf[512];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0) break;
    buf[n] = '\0';
    if (!all.empty()) all += "; ";
    all += buf[0] != '\0' && buf[1] == ' ' ? buf + 2 : buf;
  }
  return all;
}

[[noreturn]] void Fail(Napi::Env env, int fsfd, const char* op, const std::string& what) {
  int saved = errno;
  std::string log = fsfd >= 0 ? KernelLog(fsfd) : "";
  if (fsfd >= 0) close(fsfd);
  std::string detail = log.empty() ? what : what + " (" + log + ")";
  throw SystemError(env, saved, op, detail.c_str());
}

// mountOverlay(target, lowers: string[] (top first), upper|null, work|null, flags: string[])
Napi::Value MountOverlay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>().Utf8Value();
  Napi::Array lowers_js = info[1].As<Napi::Array>();
  std::vector<std::string> lowers;
  for (uint32_t i = 0; i < lowers_js.Length(); i++) lowers.push_back(lowers_js.Get(i).As<Napi::String>().Utf8Value());
  bool has_upper = info[2].IsString();
  std::string upper = has_upper ? info[2].As<Napi::String>().Utf8Value() : "";
  std::string work = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
  std::vector<std::string> flags;
  if (info.Length() > 4 && info[4].IsArray()) {
    Napi::Array a = info[4].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) flags.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  }
  for (const auto& s : lowers) if (s.find_first_of(std::string(":,\0", 3)) != std::string::npos) throw SystemError(env, EINVAL, "fsconfig", s.c_str());

  int fsfd = static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
  if (fsfd < 0) ThrowErrno(env, "fsopen", "overlay");
  bool plus = true;
  for (size_t i = 0; i < lowers.size(); i++) {
    if (Fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str()) == 0) continue;
    if (i == 0 && errno == EINVAL) {  // a kernel before 6.8: one string
      KernelLog(fsfd);
      plus = false;
      break;
    }
    Fail(env, fsfd, "fsconfig", "lowerdir+ " + lowers[i]);
  }
  if (!plus) {
    std::string joined;
    for (const auto& s : lowers) joined += (joined.empty() ? "" : ":") + s;
    if (Fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", joined.c_str()) < 0) Fail(env, fsfd, "fsconfig", "lowerdir (" + std::to_string(lowers.size()) + " layers)");
  }
  if (has_upper) {
    if (Fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper.c_str()) < 0) Fail(env, fsfd, "fsconfig", "upperdir " + upper);
    if (Fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work.c_str()) < 0) Fail(env, fsfd, "fsconfig", "workdir " + work);
  }
  for (const auto& f : flags) {
    size_t eq = f.find('=');
    int rc = eq == std::string::npos ? Fsconfig(fsfd, FSCONFIG_SET_FLAG, f.c_str(), nullptr)
                                     : Fsconfig(fsfd, FSCONFIG_SET_STRING, f.substr(0, eq).c_str(), f.substr(eq + 1).c_str());
    if (rc < 0) Fail(env, fsfd, "fsconfig", f);
  }
  if (Fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr) < 0) Fail(env, fsfd, "fsconfig", "create overlay on " + target);
  int mfd = static_cast<int>(syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV));
  if (mfd < 0) Fail(env, fsfd, "fsmount", target);
  close(fsfd);
  if (syscall(SYS_move_mount, mfd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    int saved = errno;
    close(mfd);
    errno = saved;
    ThrowErrno(env, "move_mount", target.c_str());
  }
  close(mfd);
  return env.Undefined();
}

}  // namespace

void InitOverlay(Napi::Env env, Napi::Object exports) {
  exports.Set("mountOverlay", Napi::Function::New(env, MountOverlay, "mountOverlay"));
}

}  // namespace husk
