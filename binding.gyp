{
  "variables": {
    "child_cflags_cc": ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
    "addon_cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
    "addon_sources": [
      "native/errors.cc",
      "native/plan_decode.cc",
      "native/plan_schema_decode.cc",
      "native/launch.cc"
    ]
  },
  "targets": [
    {
      # The code that runs in the cloned child, between clone and exec: async-signal-safe
      # C++ only, so built without exceptions or RTTI (tests/unit/child-target.test.ts
      # checks its includes and functions).
      "target_name": "husk_child",
      "type": "static_library",
      "sources": ["native/child.cc", "native/seccomp_filter.cc", "native/copy_up.cc"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-fPIC"],
      "cflags_cc": ["<@(child_cflags_cc)"]
    },
    {
      "target_name": "husk",
      "dependencies": ["husk_child"],
      "sources": [
        "native/binding.cc",
        "<@(addon_sources)",
        "native/syscalls.cc",
        "native/fdwait.cc",
        "native/cgroup_devices.cc",
        "native/systemd_bus.cc",
        "native/notify_socket.cc",
        "native/netdev.cc",
        "native/in_root.cc",
        "native/overlay.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["<@(addon_cflags_cc)"]
    },
    {
      # The escape lab's interpreter: the same child with the lab's ops compiled in
      # (src/lab/schema.ts: escape_probe, which plants a leaked fd), kept out of the runtime's.
      "target_name": "husk_lab_child",
      "type": "static_library",
      "sources": ["native/child.cc", "native/seccomp_filter.cc", "native/escape_probe.cc", "native/copy_up.cc"],
      "defines": ["_GNU_SOURCE", "HUSK_LAB_OPS"],
      "cflags": ["-fPIC"],
      "cflags_cc": ["<@(child_cflags_cc)"]
    },
    {
      "target_name": "husk_lab",
      "dependencies": ["husk_lab_child"],
      "sources": ["native/binding_lab.cc", "<@(addon_sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE", "HUSK_LAB_OPS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["<@(addon_cflags_cc)"]
    }
  ]
}
