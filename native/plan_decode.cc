#include "plan_decode.h"

#include <sys/mman.h>

#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>

#include "plan_image.h"

namespace husk {

// Address space only: pages are touched (and cost memory) as the plan fills them.
constexpr size_t kArenaReserve = 64 << 20;

PlanArena::PlanArena() : used_(sizeof(PlanImageHeader)) {
  void* p = mmap(nullptr, kArenaReserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(p);
}

PlanArena::~PlanArena() { munmap(base_, kArenaReserve); }

void* PlanArena::Allocate(size_t bytes) {
  size_t start = (used_ + 15) & ~static_cast<size_t>(15);
  if (bytes > kArenaReserve || start > kArenaReserve - bytes) throw std::length_error("the plan is larger than 64 MiB");
  used_ = start + bytes;
  return base_ + start;  // fresh anonymous pages: zero
}

const char* Plan::Keep(const std::string& s) {
  char* buf = static_cast<char*>(arena.Allocate(s.size() + 1));
  memcpy(buf, s.c_str(), s.size() + 1);
  return buf;
}

void Plan::Seal() {
  Op* copy = static_cast<Op*>(arena.Allocate(sizeof(Op) * (ops.size() + 1)));
  if (!ops.empty()) memcpy(static_cast<void*>(copy), ops.data(), sizeof(Op) * ops.size());
  auto* header = reinterpret_cast<PlanImageHeader*>(arena.base());
  header->magic = kPlanImageMagic;
  header->base = reinterpret_cast<uint64_t>(arena.base());
  header->size = arena.used();
  header->ops_offset = static_cast<uint64_t>(reinterpret_cast<char*>(copy) - arena.base());
  header->op_count = ops.size();
}

void OpReader::Malformed(const std::string& what) {
  throw Napi::TypeError::New(env_, "plan op " + std::to_string(index_) + " (" + kind_ + "): " + what);
}

void OpReader::Only(std::initializer_list<const char*> names) {
  Napi::Array keys = op_.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    if (key == "kind") continue;
    bool known = false;
    for (const char* name : names) known = known || key == name;
    if (!known) Malformed("unknown field \"" + key + "\"");
  }
}

Napi::Value OpReader::Required(const char* name) {
  Napi::Value value = op_.Get(name);
  if (value.IsUndefined()) Malformed(std::string("field \"") + name + "\" is missing");
  return value;
}

const char* OpReader::Keep(Napi::Value value, const char* name, const std::string& where) {
  if (!value.IsString()) Malformed(std::string("field \"") + name + "\"" + where + " is not a string");
  std::string text = value.As<Napi::String>().Utf8Value();
  if (text.find('\0') != std::string::npos) {
    Malformed(std::string("field \"") + name + "\"" + where + " holds a NUL byte");
  }
  return plan_.Keep(text);
}

const char* OpReader::String(const char* name) { return Keep(Required(name), name, ""); }

const char* OpReader::NullableString(const char* name) {
  Napi::Value value = Required(name);
  return value.IsNull() ? nullptr : Keep(value, name, "");
}

bool OpReader::Bool(const char* name, bool optional) {
  Napi::Value value = op_.Get(name);
  if (value.IsUndefined() && optional) return false;
  if (!value.IsBoolean()) Malformed(std::string("field \"") + name + "\" is not a boolean");
  return value.As<Napi::Boolean>().Value();
}

static bool IsInteger(Napi::Value value) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  return std::isfinite(d) && d == std::trunc(d);
}

int64_t OpReader::Int(const char* name) {
  Napi::Value value = Required(name);
  if (!IsInteger(value)) Malformed(std::string("field \"") + name + "\" is not an integer");
  return value.As<Napi::Number>().Int64Value();
}

const int64_t* OpReader::Ints(const char* name, size_t* len, int length) {
  Napi::Value value = Required(name);
  if (!value.IsArray()) Malformed(std::string("field \"") + name + "\" is not an array");
  Napi::Array arr = value.As<Napi::Array>();
  if (length >= 0 && arr.Length() != static_cast<uint32_t>(length)) {
    Malformed(std::string("field \"") + name + "\" must hold " + std::to_string(length) + " numbers");
  }
  auto* nums = static_cast<int64_t*>(plan_.arena.Allocate(sizeof(int64_t) * (arr.Length() + 1)));
  for (uint32_t j = 0; j < arr.Length(); j++) {
    Napi::Value item = arr.Get(j);
    if (!IsInteger(item)) Malformed(std::string("field \"") + name + "\"[" + std::to_string(j) + "] is not an integer");
    nums[j] = item.As<Napi::Number>().Int64Value();
  }
  *len = arr.Length();
  return nums;
}

char* const* OpReader::Strings(const char* name) {
  Napi::Value value = Required(name);
  if (!value.IsArray()) Malformed(std::string("field \"") + name + "\" is not an array");
  Napi::Array arr = value.As<Napi::Array>();
  auto** ptrs = static_cast<char**>(plan_.arena.Allocate(sizeof(char*) * (arr.Length() + 1)));
  for (uint32_t j = 0; j < arr.Length(); j++) {
    ptrs[j] = const_cast<char*>(Keep(arr.Get(j), name, "[" + std::to_string(j) + "]"));
  }
  ptrs[arr.Length()] = nullptr;
  return ptrs;
}

int32_t OpReader::Enum(const char* name, const char* const* values, int count) {
  Napi::Value value = Required(name);
  if (value.IsString()) {
    std::string text = value.As<Napi::String>().Utf8Value();
    for (int i = 0; i < count; i++) {
      if (text == values[i]) return i;
    }
  }
  std::string allowed;
  for (int i = 0; i < count; i++) allowed += std::string(i ? ", " : "") + values[i];
  Malformed(std::string("field \"") + name + "\" is not one of " + allowed);
}

static std::unique_ptr<Plan> Decode(Napi::Env env, Napi::Object wire) {
  auto plan = std::make_unique<Plan>();
  Napi::Value clone_flags = wire.Get("cloneFlags");
  if (!IsInteger(clone_flags)) throw Napi::TypeError::New(env, "plan: cloneFlags is not an integer");
  plan->clone_flags = static_cast<uint64_t>(clone_flags.As<Napi::Number>().Int64Value());
  Napi::Value cgroup_fd = wire.Get("cgroupFd");
  if (cgroup_fd.IsNumber()) plan->cgroup_fd = cgroup_fd.As<Napi::Number>().Int32Value();

  Napi::Value ops_value = wire.Get("ops");
  if (!ops_value.IsArray()) throw Napi::TypeError::New(env, "plan: ops is not an array");
  Napi::Array ops = ops_value.As<Napi::Array>();
  plan->ops.reserve(ops.Length());
  for (uint32_t i = 0; i < ops.Length(); i++) {
    Napi::Value item = ops.Get(i);
    if (!item.IsObject()) throw Napi::TypeError::New(env, "plan op " + std::to_string(i) + ": not an object");
    Napi::Object wop = item.As<Napi::Object>();
    Napi::Value kind_value = wop.Get("kind");
    std::string kind = kind_value.IsString() ? kind_value.As<Napi::String>().Utf8Value() : "";
    size_t k = 0;
    while (k < kOpKindCount && kind != kOpKindNames[k]) k++;
    if (k == kOpKindCount) {
      throw Napi::TypeError::New(env, "plan op " + std::to_string(i) + ": unknown kind \"" + kind + "\"");
    }
    Op op{};
    op.kind = static_cast<OpKind>(k);
    OpReader reader(env, wop, i, kOpKindNames[k], *plan);
    DecodeOpFields(reader, op);
    plan->ops.push_back(op);
  }
  plan->Seal();
  return plan;
}

std::unique_ptr<Plan> DecodePlan(Napi::Env env, Napi::Object wire) {
  try {
    return Decode(env, wire);
  } catch (const std::length_error& e) {
    throw Napi::RangeError::New(env, std::string("plan: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "plan: no memory for the plan's arena");
  }
}

}  // namespace husk
