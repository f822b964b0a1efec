#include "cgroup_devices.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

namespace husk {
namespace {

// One normalised rule; -1 = wildcard major/minor. Access bits are the kernel's
// BPF_DEVCG_ACC_* values, type is BPF_DEVCG_DEV_* (0 = any type).
struct DeviceRule {
  bool allow;
  int type;
  int64_t major;
  int64_t minor;
  int access;
};

constexpr int kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst;
  insn.src_reg = src;
  insn.off = off;
  insn.imm = imm;
  return insn;
}
bpf_insn LoadWord(uint8_t dst, uint8_t src, int16_t off) { return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn Alu32Imm(uint8_t op, uint8_t dst, int32_t imm) { return Insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn Mov32Reg(uint8_t dst, uint8_t src) { return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn JumpImm(uint8_t op, uint8_t reg, int32_t imm, int16_t off) { return Insn(BPF_JMP | op | BPF_K, reg, 0, off, imm); }
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

bool IsFullWildcard(const DeviceRule& r) {
  return r.type == 0 && r.major < 0 && r.minor < 0 && r.access == kAllAccess;
}

// The program: the LAST rule that matches decides (as writing the rules in order
// to devices.allow/devices.deny does on cgroup v1). An allow rule matches when it
// grants every requested access bit; a deny rule when it denies any of them.
// Without a matching rule the access is denied, as on v1 (husk writes "a" to
// devices.deny first) and in runc: only a full wildcard rule ("a *:* rwm") changes
// that default, as it does on v1. The parent cgroup's programs still apply too
// (BPF_F_ALLOW_MULTI): a device needs every level's allow.
// Registers: R2 = device type, R3 = requested access, R4 = major, R5 = minor.
std::vector<bpf_insn> BuildProgram(const std::vector<DeviceRule>& rules) {
  // A full wildcard rule matches everything: the rules before it never decide.
  size_t first = 0;
  bool defaultAllow = false;
  for (size_t i = rules.size(); i-- > 0;) {
    if (IsFullWildcard(rules[i])) {
      first = i + 1;
      defaultAllow = rules[i].allow;
      break;
    }
  }
  std::vector<bpf_insn> prog = {
      LoadWord(BPF_REG_2, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, access_type)),
      Alu32Imm(BPF_AND, BPF_REG_2, 0xFFFF),
      LoadWord(BPF_REG_3, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, access_type)),
      Alu32Imm(BPF_RSH, BPF_REG_3, 16),
      LoadWord(BPF_REG_4, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, major)),
      LoadWord(BPF_REG_5, BPF_REG_1, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (size_t i = rules.size(); i-- > first;) {
    const DeviceRule& r = rules[i];
    std::vector<bpf_insn> block;
    // Each test jumps to the next block on mismatch; offsets are patched below.
    if (r.type != 0) block.push_back(JumpImm(BPF_JNE, BPF_REG_2, r.type, 0));
    if (r.access != kAllAccess || !r.allow) {
      block.push_back(Mov32Reg(BPF_REG_1, BPF_REG_3));
      if (r.allow) {
        block.push_back(Alu32Imm(BPF_AND, BPF_REG_1, ~r.access & kAllAccess));
        block.push_back(JumpImm(BPF_JNE, BPF_REG_1, 0, 0));
      } else {
        block.push_back(Alu32Imm(BPF_AND, BPF_REG_1, r.access));
        block.push_back(JumpImm(BPF_JEQ, BPF_REG_1, 0, 0));
      }
    }
    if (r.major >= 0) block.push_back(JumpImm(BPF_JNE, BPF_REG_4, static_cast<int32_t>(r.major), 0));
    if (r.minor >= 0) block.push_back(JumpImm(BPF_JNE, BPF_REG_5, static_cast<int32_t>(r.minor), 0));
    block.push_back(Alu32Imm(BPF_MOV, BPF_REG_0, r.allow ? 1 : 0));
    block.push_back(Exit());
    const size_t n = block.size();
    for (size_t k = 0; k < n; k++) {
      if (BPF_CLASS(block[k].code) == BPF_JMP && BPF_OP(block[k].code) != BPF_EXIT) {
        block[k].off = static_cast<int16_t>(n - k - 1);  // to the first instruction after this block
      }
    }
    prog.insert(prog.end(), block.begin(), block.end());
  }
  prog.push_back(Alu32Imm(BPF_MOV, BPF_REG_0, defaultAllow ? 1 : 0));
  prog.push_back(Exit());
  return prog;
}

std::vector<DeviceRule> RulesArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsArray()) throw Napi::TypeError::New(env, "rules must be an array");
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<DeviceRule> rules;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsObject()) throw Napi::TypeError::New(env, "rules[" + std::to_string(k) + "] must be an object");
    Napi::Object o = v.As<Napi::Object>();
    const std::string where = "rules[" + std::to_string(k) + "]";
    DeviceRule r{};
    r.allow = o.Get("allow").ToBoolean().Value();
    std::string type = o.Get("type").IsString() ? o.Get("type").As<Napi::String>().Utf8Value() : "a";
    if (type == "a") r.type = 0;
    else if (type == "c") r.type = BPF_DEVCG_DEV_CHAR;
    else if (type == "b") r.type = BPF_DEVCG_DEV_BLOCK;
    else throw Napi::TypeError::New(env, where + ".type must be \"a\", \"c\" or \"b\"");
    auto num = [&](const char* key) -> int64_t {
      Napi::Value n = o.Get(key);
      if (n.IsUndefined() || n.IsNull()) return -1;
      if (!n.IsNumber()) throw Napi::TypeError::New(env, where + "." + key + " must be a number");
      int64_t x = n.As<Napi::Number>().Int64Value();
      if (x < -1 || x > INT32_MAX) throw Napi::RangeError::New(env, where + "." + key + " out of range");
      return x;
    };
    r.major = num("major");
    r.minor = num("minor");
    std::string access = o.Get("access").IsString() ? o.Get("access").As<Napi::String>().Utf8Value() : "rwm";
    for (char c : access) {
      if (c == 'r') r.access |= BPF_DEVCG_ACC_READ;
      else if (c == 'w') r.access |= BPF_DEVCG_ACC_WRITE;
      else if (c == 'm') r.access |= BPF_DEVCG_ACC_MKNOD;
      else throw Napi::TypeError::New(env, where + ".access must be made of r, w and m");
    }
    if (r.access == 0) throw Napi::TypeError::New(env, where + ".access must not be empty");
    rules.push_back(r);
  }
  return rules;
}

long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

// An fd closed when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

int OpenCgroupDir(Napi::Env env, const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, "open", dir.c_str());
  return fd;
}

Napi::Value DeviceFilterProgram(const Napi::CallbackInfo& info) {
  std::vector<bpf_insn> prog = BuildProgram(RulesArg(info, 0));
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<const uint8_t*>(prog.data()),
                                     prog.size() * sizeof(bpf_insn));
}

Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "cgroupDir must be a string");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  std::vector<bpf_insn> prog = BuildProgram(RulesArg(info, 1));
  Fd cg{OpenCgroupDir(env, dir)};

  static const char license[] = "Apache";
  std::vector<char> log(1 << 16);
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.insns = reinterpret_cast<uintptr_t>(prog.data());
  load.license = reinterpret_cast<uintptr_t>(license);
  Fd progFd{static_cast<int>(Bpf(BPF_PROG_LOAD, &load))};
  if (progFd.fd < 0) {
    int err = errno;
    if (err == EINVAL || err == EACCES) {  // the verifier refused: load again for its log
      load.log_level = 1;
      load.log_buf = reinterpret_cast<uintptr_t>(log.data());
      load.log_size = static_cast<uint32_t>(log.size());
      Fd again{static_cast<int>(Bpf(BPF_PROG_LOAD, &load))};
      Napi::Error e = SystemError(env, err, "bpf(BPF_PROG_LOAD)", dir.c_str());
      e.Value().Set("verifierLog", std::string(log.data()));
      throw e;
    }
    throw SystemError(env, err, "bpf(BPF_PROG_LOAD)", dir.c_str());
  }

  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cg.fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(progFd.fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attach) < 0) ThrowErrno(env, "bpf(BPF_PROG_ATTACH)", dir.c_str());

  bpf_prog_info progInfo{};
  bpf_attr get{};
  get.info.bpf_fd = static_cast<uint32_t>(progFd.fd);
  get.info.info_len = sizeof(progInfo);
  get.info.info = reinterpret_cast<uintptr_t>(&progInfo);
  if (Bpf(BPF_OBJ_GET_INFO_BY_FD, &get) < 0) ThrowErrno(env, "bpf(BPF_OBJ_GET_INFO_BY_FD)", dir.c_str());
  // The attachment holds the program; our fd is closed on return.
  Napi::Object result = Napi::Object::New(env);
  result.Set("programId", progInfo.id);
  result.Set("instructions", static_cast<double>(prog.size()));
  return result;
}

Napi::Value QueryDeviceFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "cgroupDir must be a string");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Fd cg{OpenCgroupDir(env, dir)};
  std::vector<uint32_t> ids(64);
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(cg.fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
  q.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (Bpf(BPF_PROG_QUERY, &q) < 0) ThrowErrno(env, "bpf(BPF_PROG_QUERY)", dir.c_str());
  Napi::Array out = Napi::Array::New(env, q.query.prog_cnt);
  for (uint32_t k = 0; k < q.query.prog_cnt && k < ids.size(); k++) out.Set(k, ids[k]);
  return out;
}

Napi::Value DetachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "cgroupDir must be a string");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "programId must be a number");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Fd cg{OpenCgroupDir(env, dir)};
  bpf_attr byId{};
  byId.prog_id = info[1].As<Napi::Number>().Uint32Value();
  Fd progFd{static_cast<int>(Bpf(BPF_PROG_GET_FD_BY_ID, &byId))};
  if (progFd.fd < 0) ThrowErrno(env, "bpf(BPF_PROG_GET_FD_BY_ID)", dir.c_str());
  bpf_attr detach{};
  detach.target_fd = static_cast<uint32_t>(cg.fd);
  detach.attach_bpf_fd = static_cast<uint32_t>(progFd.fd);
  detach.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &detach) < 0) ThrowErrno(env, "bpf(BPF_PROG_DETACH)", dir.c_str());
  return env.Undefined();
}

}  // namespace

void InitCgroupDevices(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceFilterProgram", Napi::Function::New(env, DeviceFilterProgram, "deviceFilterProgram"));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter, "attachDeviceFilter"));
  exports.Set("queryDeviceFilters", Napi::Function::New(env, QueryDeviceFilters, "queryDeviceFilters"));
  exports.Set("detachDeviceFilter", Napi::Function::New(env, DetachDeviceFilter, "detachDeviceFilter"));
}

}  // namespace husk
