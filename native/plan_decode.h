#pragma once
#include <napi.h>

#include <initializer_list>
#include <string>

#include "plan.h"

namespace husk {

// Decodes the plan as src/runtime/launch.ts hands it over:
//   { cloneFlags, cgroupFd?, ops: PlanOp[] }
// each op being the object the planners built (src/plan/schema.ts declares them).
// Throws a TypeError naming the op, its kind and the field on malformed input.
std::unique_ptr<Plan> DecodePlan(Napi::Env env, Napi::Object wire);

// Reads the fields of one op, checking each one's presence and type; strings
// must hold no NUL byte (the child would silently cut them there).
class OpReader {
 public:
  OpReader(Napi::Env env, Napi::Object op, uint32_t index, const char* kind, Plan& plan)
      : env_(env), op_(op), index_(index), kind_(kind), plan_(plan) {}

  // Refuses a field the kind does not declare (a misspelt one would be lost).
  void Only(std::initializer_list<const char*> names);
  const char* String(const char* name);
  const char* NullableString(const char* name);
  bool Bool(const char* name, bool optional);
  int64_t Int(const char* name);
  // length < 0: any count.
  const int64_t* Ints(const char* name, size_t* len, int length);
  char* const* Strings(const char* name);
  int32_t Enum(const char* name, const char* const* values, int count);

 private:
  Napi::Value Required(const char* name);
  const char* Keep(Napi::Value value, const char* name, const std::string& where);
  [[noreturn]] void Malformed(const std::string& what);

  Napi::Env env_;
  Napi::Object op_;
  uint32_t index_;
  const char* kind_;
  Plan& plan_;
};

// Generated (native/plan_schema_decode.cc).
extern const char* const kOpKindNames[kOpKindCount];
void DecodeOpFields(OpReader& in, Op& op);

}  // namespace husk
