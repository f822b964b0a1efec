{
  "variables": {
    "child_cflags_cc": ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
    "init_cflags": ["-ffunction-sections", "-fdata-sections", "-fno-pie"],
    "init_ldflags": ["-static", "-no-pie", "-s", "-Wl,--gc-sections", "-Wl,--build-id=none"],
    "addon_cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
    "addon_sources": [
      "native/errors.cc",
      "native/plan_decode.cc",
      "native/plan_schema_decode.cc",
      "native/launch.cc",
      "native/unix_socket.cc"
    ]
  },
  "targets": [
    {
      # husk-exec, the last exec of every process husk starts (native/exec_helper.h): static,
      # no libc (its own _start and raw system calls), so it needs no static libc to build.
      "target_name": "husk-exec",
      "type": "executable",
      "sources": ["native/tools/exec_helper.c"],
      "cflags!": ["-pthread", "-fPIC", "-O3", "-fno-omit-frame-pointer"],
      "cflags": ["-Os", "-nostdlib", "-static", "-ffreestanding", "-fno-builtin", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-pie"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "ldflags": ["-nostdlib", "-static", "-no-pie", "-s", "-Wl,--build-id=none", "-Wl,-z,max-page-size=4096"]
    },
    {
      # ...carried inside the addons as a C array (sealed into a memfd at first use: launch.cc).
      "target_name": "husk_exec_blob",
      "type": "none",
      "dependencies": ["husk-exec"],
      "actions": [
        {
          "action_name": "embed_husk_exec",
          "inputs": ["<(PRODUCT_DIR)/husk-exec", "scripts/embed-binary.mjs"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/husk_exec_blob.h"],
          "action": ["node", "scripts/embed-binary.mjs", "<(PRODUCT_DIR)/husk-exec", "<(SHARED_INTERMEDIATE_DIR)/husk_exec_blob.h", "kHuskExecBinary"]
        }
      ]
    },
    {
      # The code the container's init runs, from its first system call to its exec:
      # async-signal-safe C++ only, so built without exceptions or RTTI
      # (tests/unit/child-target.test.ts checks its includes and functions).
      "target_name": "husk_child",
      "type": "static_library",
      "sources": ["native/child.cc", "native/seccomp_filter.cc", "native/copy_up.cc"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["<@(init_cflags)"],
      "cflags_cc": ["<@(child_cflags_cc)"]
    },
    {
      # husk-init, that child as a program of its own: the runtime's clone shares Node's memory
      # (CLONE_VM | CLONE_VFORK) only until it execveat()s this from a sealed memfd
      # (native/launch.cc, native/init_main.cc). Static, so it loads no host library either
      # (libc.a: libc6-dev, part of build-essential).
      "target_name": "husk-init",
      "type": "executable",
      "dependencies": ["husk_child"],
      "sources": ["native/init_main.cc"],
      "defines": ["_GNU_SOURCE"],
      "cflags!": ["-pthread", "-fPIC"],
      "cflags": ["<@(init_cflags)"],
      "cflags_cc": ["<@(child_cflags_cc)"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "ldflags": ["<@(init_ldflags)"]
    },
    {
      "target_name": "husk_init_blob",
      "type": "none",
      "dependencies": ["husk-init"],
      "actions": [
        {
          "action_name": "embed_husk_init",
          "inputs": ["<(PRODUCT_DIR)/husk-init", "scripts/embed-binary.mjs"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/husk_init_blob.h"],
          "action": ["node", "scripts/embed-binary.mjs", "<(PRODUCT_DIR)/husk-init", "<(SHARED_INTERMEDIATE_DIR)/husk_init_blob.h", "kHuskInitBinary"]
        }
      ]
    },
    {
      "target_name": "husk",
      "dependencies": ["husk_init_blob", "husk_exec_blob"],
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
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(SHARED_INTERMEDIATE_DIR)"],
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
      "cflags": ["<@(init_cflags)"],
      "cflags_cc": ["<@(child_cflags_cc)"]
    },
    {
      "target_name": "husk-lab-init",
      "type": "executable",
      "dependencies": ["husk_lab_child"],
      "sources": ["native/init_main.cc"],
      "defines": ["_GNU_SOURCE", "HUSK_LAB_OPS"],
      "cflags!": ["-pthread", "-fPIC"],
      "cflags": ["<@(init_cflags)"],
      "cflags_cc": ["<@(child_cflags_cc)"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "ldflags": ["<@(init_ldflags)"]
    },
    {
      "target_name": "husk_lab_init_blob",
      "type": "none",
      "dependencies": ["husk-lab-init"],
      "actions": [
        {
          "action_name": "embed_husk_lab_init",
          "inputs": ["<(PRODUCT_DIR)/husk-lab-init", "scripts/embed-binary.mjs"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/husk_lab_init_blob.h"],
          "action": ["node", "scripts/embed-binary.mjs", "<(PRODUCT_DIR)/husk-lab-init", "<(SHARED_INTERMEDIATE_DIR)/husk_lab_init_blob.h", "kHuskInitBinary"]
        }
      ]
    },
    {
      "target_name": "husk_lab",
      "dependencies": ["husk_lab_init_blob", "husk_exec_blob"],
      "sources": ["native/binding_lab.cc", "<@(addon_sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "<(SHARED_INTERMEDIATE_DIR)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE", "HUSK_LAB_OPS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["<@(addon_cflags_cc)"]
    }
  ]
}
