#include "plan_decode.h"

#include <cstring>
#include <string>
#include <unordered_map>

namespace husk {

const char* Plan::Keep(const std::string& s) {
  auto buf = std::make_unique<char[]>(s.size() + 1);
  memcpy(buf.get(), s.c_str(), s.size() + 1);
  strings.push_back(std::move(buf));
  return strings.back().get();
}

namespace {

const std::unordered_map<std::string, OpKind>& KindsByName() {
  static const std::unordered_map<std::string, OpKind> kinds = {
      {"unshare", OpKind::kUnshare},         {"setns", OpKind::kSetns},
      {"sync", OpKind::kSync},               {"enter_rootfs", OpKind::kEnterRootfs},
      {"mount", OpKind::kMount},             {"remount", OpKind::kRemount},
      {"mknod", OpKind::kMknod},             {"symlink", OpKind::kSymlink},
      {"mkdir", OpKind::kMkdir},             {"mask", OpKind::kMask},
      {"readonly", OpKind::kReadonly},       {"pivot_root", OpKind::kPivotRoot},
      {"move_chroot", OpKind::kMoveChroot},  {"chroot", OpKind::kChroot},
      {"chdir", OpKind::kChdir},             {"sethostname", OpKind::kSethostname},
      {"setdomainname", OpKind::kSetdomainname}, {"write_file", OpKind::kWriteFile},
      {"rlimit", OpKind::kRlimit},           {"setgroups", OpKind::kSetgroups},
      {"setuser", OpKind::kSetuser},         {"caps", OpKind::kCaps},
      {"no_new_privs", OpKind::kNoNewPrivs}, {"umask", OpKind::kUmask},
      {"setsid", OpKind::kSetsid},           {"pdeathsig", OpKind::kPdeathsig},
      {"dumpable", OpKind::kDumpable},       {"open_pty", OpKind::kOpenPty},
      {"open_gate", OpKind::kOpenGate},      {"wait_gate", OpKind::kWaitGate},
      {"hook", OpKind::kHook},               {"stdio", OpKind::kStdio},
      {"close_fds", OpKind::kCloseFds},      {"exec", OpKind::kExec},
      {"bounding", OpKind::kBounding},     {"resolve_exec", OpKind::kResolveExec},
      {"escape_probe", OpKind::kEscapeProbe},
      {"fork", OpKind::kFork},
      {"seccomp", OpKind::kSeccomp},
  };
  return kinds;
}

[[noreturn]] void Malformed(Napi::Env env, uint32_t index, const std::string& what) {
  throw Napi::TypeError::New(env, "plan op " + std::to_string(index) + ": " + what);
}

}  // namespace

std::unique_ptr<Plan> DecodePlan(Napi::Env env, Napi::Object wire) {
  auto plan = std::make_unique<Plan>();
  plan->clone_flags = static_cast<uint64_t>(wire.Get("cloneFlags").As<Napi::Number>().Int64Value());
  Napi::Value cgroup_fd = wire.Get("cgroupFd");
  if (cgroup_fd.IsNumber()) plan->cgroup_fd = cgroup_fd.As<Napi::Number>().Int32Value();

  Napi::Array ops = wire.Get("ops").As<Napi::Array>();
  plan->ops.reserve(ops.Length());
  for (uint32_t i = 0; i < ops.Length(); i++) {
    Napi::Object wop = ops.Get(i).As<Napi::Object>();
    std::string kind = wop.Get("kind").As<Napi::String>().Utf8Value();
    auto found = KindsByName().find(kind);
    if (found == KindsByName().end()) Malformed(env, i, "unknown kind \"" + kind + "\"");
    Op op;
    op.kind = found->second;

    if (Napi::Value s = wop.Get("s"); s.IsArray()) {
      Napi::Array arr = s.As<Napi::Array>();
      if (arr.Length() > 4) Malformed(env, i, "more than 4 strings");
      for (uint32_t k = 0; k < arr.Length(); k++) {
        Napi::Value str = arr.Get(k);
        if (str.IsString()) op.s[k] = plan->Keep(str.As<Napi::String>().Utf8Value());
        else if (!str.IsNull() && !str.IsUndefined()) Malformed(env, i, "s[" + std::to_string(k) + "] is not a string");
      }
    }
    if (Napi::Value n = wop.Get("n"); n.IsArray()) {
      Napi::Array arr = n.As<Napi::Array>();
      if (arr.Length() > 6) Malformed(env, i, "more than 6 numbers");
      for (uint32_t k = 0; k < arr.Length(); k++) op.n[k] = arr.Get(k).As<Napi::Number>().Int64Value();
    }
    if (Napi::Value v = wop.Get("v"); v.IsArray()) {
      Napi::Array vecs = v.As<Napi::Array>();
      if (vecs.Length() > 2) Malformed(env, i, "more than 2 string vectors");
      for (uint32_t k = 0; k < vecs.Length(); k++) {
        Napi::Array vec = vecs.Get(k).As<Napi::Array>();
        auto ptrs = std::make_unique<char*[]>(vec.Length() + 1);
        for (uint32_t j = 0; j < vec.Length(); j++) {
          ptrs[j] = const_cast<char*>(plan->Keep(vec.Get(j).As<Napi::String>().Utf8Value()));
        }
        ptrs[vec.Length()] = nullptr;
        op.v[k] = ptrs.get();
        plan->string_vectors.push_back(std::move(ptrs));
      }
    }
    if (Napi::Value nv = wop.Get("nv"); nv.IsArray()) {
      Napi::Array arr = nv.As<Napi::Array>();
      auto nums = std::make_unique<int64_t[]>(arr.Length() + 1);
      for (uint32_t j = 0; j < arr.Length(); j++) nums[j] = arr.Get(j).As<Napi::Number>().Int64Value();
      op.nv = nums.get();
      op.nv_len = static_cast<int>(arr.Length());
      plan->number_vectors.push_back(std::move(nums));
    }
    plan->ops.push_back(op);
  }
  return plan;
}

}  // namespace husk
