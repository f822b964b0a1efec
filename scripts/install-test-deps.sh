#!/usr/bin/env bash
# What the tests need from Debian, installed with apt-get when missing (npm test calls this once,
# as root; it only installs, it starts nothing). One line per package: "COMMAND-OR-PATH PACKAGE".
# The tests themselves start the engines, registries and daemons they use, with private roots,
# sockets and ports, and stop them at the end.
set -u
wanted=(
  "runc runc"
  "crun crun"
  "podman podman"
  "conmon conmon"
  "containerd containerd"
  "ctr containerd"
  "dockerd docker.io"
  "skopeo skopeo"
  "docker-registry docker-registry"
  "zstd zstd"
  "openssl openssl"
  "htpasswd apache2-utils"
  "tmux tmux"
  "newuidmap uidmap"
  "/usr/lib/cni/loopback containernetworking-plugins"
  "qemu-system-x86_64 qemu-system-x86"
  "/bin/busybox busybox-static"
  "ip iproute2"
  "hyperfine hyperfine"
  "strace strace"
  "valgrind valgrind"
)
missing=()
for entry in "${wanted[@]}"; do
  what=${entry%% *} pkg=${entry#* }
  if [[ $what == /* ]]; then [ -e "$what" ] && continue; else command -v "$what" >/dev/null 2>&1 && continue; fi
  [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} (as root on Debian: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "install-test-deps: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the packages' own services (containerd, docker) from being started.
policy=/usr/sbin/policy-rc.d created_policy=0
if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && created_policy=1; fi
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2
rc=$?
[ $created_policy = 1 ] && rm -f $policy
exit $rc
