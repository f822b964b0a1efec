{
  "targets": [
    {
      "target_name": "husk",
      "sources": [
        "native/binding.cc",
        "native/errors.cc",
        "native/syscalls.cc",
        "native/plan_decode.cc",
        "native/plan_schema_decode.cc",
        "native/child.cc",
        "native/launch.cc",
        "native/fdwait.cc",
        "native/cgroup_devices.cc",
        "native/escape_probe.cc",
        "native/seccomp_filter.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    },
    {
      "target_name": "husk-testinit",
      "type": "executable",
      "sources": ["native/tools/testinit.c"],
      "cflags": ["-O2", "-Wall", "-static"],
      "ldflags": ["-static"]
    }
  ]
}
