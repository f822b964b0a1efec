#include "plan_decode.h"

#include <cmath>
#include <cstring>

namespace husk {

const char* Plan::Keep(const std::string& s) {
  auto buf = std::make_unique<char[]>(s.size() + 1);
  memcpy(buf.get(), s.c_str(), s.size() + 1);
  strings.push_back(std::move(buf));
  return strings.back().get();
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
  auto nums = std::make_unique<int64_t[]>(arr.Length() + 1);
  for (uint32_t j = 0; j < arr.Length(); j++) {
    Napi::Value item = arr.Get(j);
    if (!IsInteger(item)) Malformed(std::string("field \"") + name + "\"[" + std::to_string(j) + "] is not an integer");
    nums[j] = item.As<Napi::Number>().Int64Value();
  }
  *len = arr.Length();
  plan_.number_vectors.push_back(std::move(nums));
  return plan_.number_vectors.back().get();
}

char* const* OpReader::Strings(const char* name) {
  Napi::Value value = Required(name);
  if (!value.IsArray()) Malformed(std::string("field \"") + name + "\" is not an array");
  Napi::Array arr = value.As<Napi::Array>();
  auto ptrs = std::make_unique<char*[]>(arr.Length() + 1);
  for (uint32_t j = 0; j < arr.Length(); j++) {
    ptrs[j] = const_cast<char*>(Keep(arr.Get(j), name, "[" + std::to_string(j) + "]"));
  }
  ptrs[arr.Length()] = nullptr;
  plan_.string_vectors.push_back(std::move(ptrs));
  return plan_.string_vectors.back().get();
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

std::unique_ptr<Plan> DecodePlan(Napi::Env env, Napi::Object wire) {
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
  return plan;
}

}  // namespace husk
