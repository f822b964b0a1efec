#include "systemd_bus.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

// The few sd-bus declarations husk uses (sd-bus.h, stable ABI since systemd 221), so that
// neither building nor running husk needs libsystemd where systemd is not the init.
extern "C" {
struct sd_bus;
struct sd_bus_message;
struct sd_bus_slot;
struct sd_bus_error {
  const char* name;
  const char* message;
  int _need_free;
};
typedef int (*sd_bus_message_handler_t)(sd_bus_message*, void*, sd_bus_error*);
}

namespace husk {
namespace {

struct SdBus {
  int (*open_system)(sd_bus**);
  int (*bus_new)(sd_bus**);
  int (*set_address)(sd_bus*, const char*);
  int (*start)(sd_bus*);
  sd_bus* (*flush_close_unref)(sd_bus*);
  int (*new_method_call)(sd_bus*, sd_bus_message**, const char*, const char*, const char*, const char*);
  int (*append)(sd_bus_message*, const char*, ...);
  int (*append_array)(sd_bus_message*, char, const void*, size_t);
  int (*open_container)(sd_bus_message*, char, const char*);
  int (*close_container)(sd_bus_message*);
  int (*call)(sd_bus*, sd_bus_message*, uint64_t, sd_bus_error*, sd_bus_message**);
  int (*read)(sd_bus_message*, const char*, ...);
  sd_bus_message* (*message_unref)(sd_bus_message*);
  void (*error_free)(sd_bus_error*);
  int (*match_signal)(sd_bus*, sd_bus_slot**, const char*, const char*, const char*, const char*, sd_bus_message_handler_t, void*);
  int (*process)(sd_bus*, sd_bus_message**);
  int (*wait)(sd_bus*, uint64_t);
  sd_bus_slot* (*slot_unref)(sd_bus_slot*);
};

// Loaded once, on first use; nullptr with a reason when libsystemd is not there.
const SdBus* LoadSdBus(std::string* why) {
  static SdBus bus;
  static int state = 0;  // 0 not tried, 1 loaded, -1 failed
  static std::string failure;
  if (state == 0) {
    void* lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    state = -1;
    if (lib == nullptr) {
      failure = std::string("cannot load libsystemd.so.0 (is systemd installed?): ") + dlerror();
    } else {
      bool ok = true;
      auto sym = [&](const char* name) {
        void* p = dlsym(lib, name);
        if (p == nullptr && ok) {
          ok = false;
          failure = std::string("libsystemd.so.0 has no ") + name;
        }
        return p;
      };
#define HUSK_SD(field, name) bus.field = reinterpret_cast<decltype(bus.field)>(sym(name))
      HUSK_SD(open_system, "sd_bus_open_system");
      HUSK_SD(bus_new, "sd_bus_new");
      HUSK_SD(set_address, "sd_bus_set_address");
      HUSK_SD(start, "sd_bus_start");
      HUSK_SD(flush_close_unref, "sd_bus_flush_close_unref");
      HUSK_SD(new_method_call, "sd_bus_message_new_method_call");
      HUSK_SD(append, "sd_bus_message_append");
      HUSK_SD(append_array, "sd_bus_message_append_array");
      HUSK_SD(open_container, "sd_bus_message_open_container");
      HUSK_SD(close_container, "sd_bus_message_close_container");
      HUSK_SD(call, "sd_bus_call");
      HUSK_SD(read, "sd_bus_message_read");
      HUSK_SD(message_unref, "sd_bus_message_unref");
      HUSK_SD(error_free, "sd_bus_error_free");
      HUSK_SD(match_signal, "sd_bus_match_signal");
      HUSK_SD(process, "sd_bus_process");
      HUSK_SD(wait, "sd_bus_wait");
      HUSK_SD(slot_unref, "sd_bus_slot_unref");
#undef HUSK_SD
      if (ok) state = 1;
    }
  }
  if (state == 1) return &bus;
  *why = failure;
  return nullptr;
}

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

// One unit property, copied out of JavaScript before the worker thread runs.
struct Property {
  std::string name;
  std::string type;  // "t", "b", "s", "au", "ay"
  uint64_t number = 0;
  std::string text;
  std::vector<uint32_t> numbers;
  std::vector<uint8_t> bytes;
};

struct JobWait {
  const SdBus* sd = nullptr;
  std::string job;  // the job's object path, once known
  std::string result;
  bool done = false;
};

int OnJobRemoved(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* wait = static_cast<JobWait*>(userdata);
  const SdBus* sd = wait->sd;
  uint32_t id = 0;
  const char* path = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd->read(m, "uoss", &id, &path, &unit, &result) >= 0 && path != nullptr && wait->job == path) {
    wait->result = result != nullptr ? result : "";
    wait->done = true;
  }
  return 0;
}

// A call to systemd's manager, run on a libuv worker thread with its own connection:
// StartTransientUnit / StopUnit (which wait for their job), SetUnitProperties, ResetFailedUnit.
class ManagerCall : public Napi::AsyncWorker {
 public:
  ManagerCall(Napi::Env env, std::string method, std::string unit, std::string mode, bool runtime,
              std::vector<Property> properties, uint64_t wait_ms)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        method_(std::move(method)),
        unit_(std::move(unit)),
        mode_(std::move(mode)),
        runtime_(runtime),
        properties_(std::move(properties)),
        wait_ms_(wait_ms) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string why;
    sd_ = LoadSdBus(&why);
    if (sd_ == nullptr) return Fail("dlopen", 0, why);
    wait_.sd = sd_;
    sd_bus* bus = Connect();
    if (bus == nullptr) return;
    Run(bus);
    sd_->flush_close_unref(bus);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!failed_) {
      Napi::Object out = Napi::Object::New(env);
      if (!wait_.job.empty()) out.Set("job", wait_.job);
      if (wait_.done) out.Set("result", wait_.result);
      deferred_.Resolve(out);
      return;
    }
    Napi::Error error = errno_ != 0 ? SystemError(env, errno_, step_.c_str()) : Napi::Error::New(env, "");
    std::string message = "systemd " + method_ + " " + unit_ + ": " + step_ + ": " + detail_;
    error.Set("message", message);
    if (!bus_error_.empty()) error.Set("code", bus_error_);
    error.Set("unit", unit_);
    deferred_.Reject(error.Value());
  }

 private:
  void Fail(const std::string& step, int err, const std::string& detail, const std::string& bus_error = "") {
    failed_ = true;
    step_ = step;
    errno_ = err;
    detail_ = detail.empty() && err != 0 ? strerror(err) : detail;
    bus_error_ = bus_error;
  }

  // The system bus (dbus-daemon), else systemd's private socket (root, no bus daemon).
  sd_bus* Connect() {
    sd_bus* bus = nullptr;
    int rc = sd_->open_system(&bus);
    if (rc >= 0) return bus;
    int first = -rc;
    if (sd_->bus_new(&bus) >= 0 && sd_->set_address(bus, "unix:path=/run/systemd/private") >= 0 && sd_->start(bus) >= 0) return bus;
    if (bus != nullptr) sd_->flush_close_unref(bus);
    Fail("connect", first, std::string("cannot reach systemd on the system bus or /run/systemd/private: ") + strerror(first));
    return nullptr;
  }

  bool Check(int rc, const char* step) {
    if (rc >= 0) return true;
    Fail(step, -rc, "");
    return false;
  }

  bool AppendProperties(sd_bus_message* m) {
    if (!Check(sd_->open_container(m, 'a', "(sv)"), "append")) return false;
    for (const Property& p : properties_) {
      bool ok = Check(sd_->open_container(m, 'r', "sv"), "append") && Check(sd_->append(m, "s", p.name.c_str()), "append") &&
                Check(sd_->open_container(m, 'v', p.type.c_str()), "append");
      if (!ok) return false;
      int rc = 0;
      if (p.type == "t") {
        rc = sd_->append(m, "t", p.number);
      } else if (p.type == "b") {
        rc = sd_->append(m, "b", static_cast<int>(p.number != 0));
      } else if (p.type == "s") {
        rc = sd_->append(m, "s", p.text.c_str());
      } else if (p.type == "au") {
        rc = sd_->open_container(m, 'a', "u");
        for (size_t i = 0; rc >= 0 && i < p.numbers.size(); i++) rc = sd_->append(m, "u", p.numbers[i]);
        if (rc >= 0) rc = sd_->close_container(m);
      } else if (p.type == "ay") {
        rc = sd_->append_array(m, 'y', p.bytes.data(), p.bytes.size());
      }
      if (!Check(rc, "append") || !Check(sd_->close_container(m), "append") || !Check(sd_->close_container(m), "append")) return false;
    }
    return Check(sd_->close_container(m), "append");
  }

  // Calls the method; on a bus error keeps its name and message.
  sd_bus_message* Call(sd_bus* bus, sd_bus_message* m) {
    sd_bus_error error = {nullptr, nullptr, 0};
    sd_bus_message* reply = nullptr;
    int rc = sd_->call(bus, m, wait_ms_ * 1000, &error, &reply);
    if (rc < 0) {
      Fail("call", error.name != nullptr ? 0 : -rc, error.message != nullptr ? error.message : strerror(-rc), error.name != nullptr ? error.name : "");
      sd_->error_free(&error);
      return nullptr;
    }
    sd_->error_free(&error);
    return reply;
  }

  void Run(sd_bus* bus) {
    // Subscribe so that systemd sends job signals to this connection whichever socket it is.
    sd_bus_message* m = nullptr;
    if (!Check(sd_->new_method_call(bus, &m, kService, kPath, kManager, "Subscribe"), "message")) return;
    sd_bus_message* reply = Call(bus, m);
    sd_->message_unref(m);
    if (reply == nullptr) return;
    sd_->message_unref(reply);

    const bool waits = method_ == "StartTransientUnit" || method_ == "StopUnit";
    sd_bus_slot* slot = nullptr;
    if (waits && !Check(sd_->match_signal(bus, &slot, kService, kPath, kManager, "JobRemoved", OnJobRemoved, &wait_), "match")) return;

    m = nullptr;
    bool ok = Check(sd_->new_method_call(bus, &m, kService, kPath, kManager, method_.c_str()), "message");
    if (ok) {
      if (method_ == "StartTransientUnit") {
        ok = Check(sd_->append(m, "ss", unit_.c_str(), mode_.c_str()), "append") && AppendProperties(m) &&
             Check(sd_->open_container(m, 'a', "(sa(sv))"), "append") && Check(sd_->close_container(m), "append");
      } else if (method_ == "StopUnit") {
        ok = Check(sd_->append(m, "ss", unit_.c_str(), mode_.c_str()), "append");
      } else if (method_ == "SetUnitProperties") {
        ok = Check(sd_->append(m, "sb", unit_.c_str(), static_cast<int>(runtime_)), "append") && AppendProperties(m);
      } else {
        ok = Check(sd_->append(m, "s", unit_.c_str()), "append");
      }
    }
    reply = ok ? Call(bus, m) : nullptr;
    if (m != nullptr) sd_->message_unref(m);
    if (reply != nullptr && waits) {
      const char* job = nullptr;
      if (Check(sd_->read(reply, "o", &job), "reply") && job != nullptr) {
        wait_.job = job;
        WaitForJob(bus);
      }
    }
    if (reply != nullptr) sd_->message_unref(reply);
    if (slot != nullptr) sd_->slot_unref(slot);
  }

  void WaitForJob(sd_bus* bus) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const uint64_t deadline = static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000 + wait_ms_ * 1000;
    while (!wait_.done) {
      int rc = sd_->process(bus, nullptr);
      if (rc < 0) return (void)Check(rc, "process");
      if (rc > 0) continue;
      clock_gettime(CLOCK_MONOTONIC, &now);
      uint64_t at = static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
      if (at >= deadline) return Fail("wait", ETIMEDOUT, "job " + wait_.job + " did not finish in " + std::to_string(wait_ms_) + " ms");
      rc = sd_->wait(bus, deadline - at);
      if (rc < 0 && rc != -EINTR) return (void)Check(rc, "wait");
    }
  }

  Napi::Promise::Deferred deferred_;
  const SdBus* sd_ = nullptr;
  std::string method_, unit_, mode_;
  bool runtime_;
  std::vector<Property> properties_;
  uint64_t wait_ms_;
  JobWait wait_;
  bool failed_ = false;
  int errno_ = 0;
  std::string step_, detail_, bus_error_;
};

uint64_t ToUint64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = true;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
}

// systemdManagerCall({ method, unit, mode?, runtime?, properties?, waitMs }) -> Promise<{ job?, result? }>
Napi::Value SystemdManagerCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object req = info[0].As<Napi::Object>();
  std::string method = req.Get("method").As<Napi::String>();
  static const char* const methods[] = {"StartTransientUnit", "StopUnit", "SetUnitProperties", "ResetFailedUnit"};
  bool known = false;
  for (const char* name : methods) known = known || method == name;
  if (!known) throw Napi::TypeError::New(env, "systemdManagerCall: unknown method " + method);
  std::string unit = req.Get("unit").As<Napi::String>();
  std::string mode = req.Has("mode") ? req.Get("mode").As<Napi::String>().Utf8Value() : std::string("replace");
  bool runtime = req.Has("runtime") ? req.Get("runtime").ToBoolean().Value() : true;
  uint64_t wait_ms = req.Has("waitMs") ? ToUint64(req.Get("waitMs")) : 10000;
  std::vector<Property> properties;
  if (req.Has("properties")) {
    Napi::Array list = req.Get("properties").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object p = list.Get(i).As<Napi::Object>();
      Property prop;
      prop.name = p.Get("name").As<Napi::String>();
      prop.type = p.Get("type").As<Napi::String>();
      Napi::Value value = p.Get("value");
      if (prop.type == "t" || prop.type == "b") {
        prop.number = ToUint64(value);
      } else if (prop.type == "s") {
        prop.text = value.As<Napi::String>();
      } else if (prop.type == "au") {
        Napi::Array numbers = value.As<Napi::Array>();
        for (uint32_t j = 0; j < numbers.Length(); j++) prop.numbers.push_back(static_cast<uint32_t>(ToUint64(numbers.Get(j))));
      } else if (prop.type == "ay") {
        Napi::Buffer<uint8_t> bytes = value.As<Napi::Buffer<uint8_t>>();
        prop.bytes.assign(bytes.Data(), bytes.Data() + bytes.Length());
      } else {
        throw Napi::TypeError::New(env, "systemdManagerCall: property " + prop.name + " has unsupported type " + prop.type);
      }
      properties.push_back(std::move(prop));
    }
  }
  auto* call = new ManagerCall(env, method, unit, mode, runtime, std::move(properties), wait_ms);
  Napi::Promise promise = call->Promise();
  call->Queue();
  return promise;
}

}  // namespace

void InitSystemdBus(Napi::Env env, Napi::Object exports) {
  exports.Set("systemdManagerCall", Napi::Function::New(env, SystemdManagerCall, "systemdManagerCall"));
}

}  // namespace husk
