#!/usr/bin/env bash
# Container smoke test of the tig runtime image, offline and without a Docker
# engine: builds Dockerfile.runtime with podman from executables built on this
# host, on a minimal Debian made with debootstrap, runs it the way Kubernetes
# does (read-only root file system, tmpfs /data, user 65532) and checks:
#   - both executables find every shared library inside the image,
#   - GET /readyz answers 200 on the admin port,
#   - a PUT stores bytes at their SHA-256 address and a GET returns them,
#   - the server process runs as 65532:65532, not root,
#   - SIGTERM stops it with exit status 0.
#
#   checks/container-smoke.sh [BINARY_DIR]     as root; BINARY_DIR defaults to .build/debug
#
# BINARY_DIR must hold `tig` and `tig-operator`. Shared libraries they need
# that the base lacks (the Swift runtime of a build without
# --static-swift-stdlib) are copied into the image. The Debian base is cached
# in TIG_SMOKE_CACHE (default /var/cache/tig-smoke) and as the podman image
# localhost/tig-runtime-base:bookworm, so only the first run pays for
# debootstrap. Environment: TIG_SMOKE_MIRROR (Debian mirror, default
# http://deb.debian.org/debian), TIG_SMOKE_KEEP=1 keeps the container and image.
set -euo pipefail
# shellcheck source=checks/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

repo=$TIG_REPO
bin_dir=$(realpath "${1:-$repo/.build/debug}")
cache=${TIG_SMOKE_CACHE:-/var/cache/tig-smoke}
suite=bookworm
# What the Dockerfile's runtime stage installs (checks/packaging.sh keeps the
# two lists equal): the base must hold it, as no package manager runs in the build.
RUNTIME_PACKAGES="ca-certificates libcurl4 libssl3 libyaml-0-2"
base_image=localhost/tig-runtime-base:$suite
image=localhost/tig:smoke-$$
container=tig-smoke-$$
podman=(podman --runtime runc)
# Explicit limits: podman's defaults (2^20 open files, 32768 processes) can be
# above the hard limits of a sandboxed host, which runc may not raise.
open_files=$(ulimit -Hn)
((open_files <= 65536)) || open_files=65536
run=("${podman[@]}" run --pull=never --ulimit "nofile=$open_files:$open_files" --ulimit nproc=4096:4096)

started=$SECONDS
step() { printf '[%3ds] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || fail "run as root: podman builds and runs rootful here"
for binary in tig tig-operator; do
  [[ -x $bin_dir/$binary ]] || fail "$bin_dir/$binary is missing (build first: swift build)"
done

ensure_debian_tools podman:podman runc:runc debootstrap:debootstrap curl:curl

workdir=$(mktemp -d)
cleanup() {
  local status=$?
  if ((status != 0)) && "${podman[@]}" container exists "$container" 2>/dev/null; then
    echo "--- container log ---" >&2
    "${podman[@]}" logs "$container" >&2 || true
  fi
  if [[ ${TIG_SMOKE_KEEP:-0} != 1 ]]; then
    "${podman[@]}" rm --force --ignore "$container" >/dev/null 2>&1 || true
    "${podman[@]}" rmi --force "$image" >/dev/null 2>&1 || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# --- the base: minbase Debian plus the runtime packages, cached ------------------
rootfs=$cache/rootfs-$suite
stamp="$suite minbase $RUNTIME_PACKAGES"
if [[ ! -f $rootfs.stamp || $(<"$rootfs.stamp") != "$stamp" ]]; then
  mirror=${TIG_SMOKE_MIRROR:-http://deb.debian.org/debian}
  step "debootstrap $suite (minbase + $RUNTIME_PACKAGES) from $mirror"
  rm -rf "$rootfs" "$rootfs.stamp" "$rootfs.tmp"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="${RUNTIME_PACKAGES// /,}" "$suite" "$rootfs.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    fail "debootstrap failed, see $cache/debootstrap.log"
  # What a container image does not need: downloaded packages and indexes.
  rm -rf "$rootfs.tmp"/var/cache/apt/archives/*.deb "$rootfs.tmp"/var/lib/apt/lists/*
  mv "$rootfs.tmp" "$rootfs"
  echo "$stamp" >"$rootfs.stamp"
  "${podman[@]}" rmi --force "$base_image" >/dev/null 2>&1 || true
fi
if ! "${podman[@]}" image exists "$base_image"; then
  step "importing $rootfs as $base_image"
  tar --numeric-owner -C "$rootfs" -c . | "${podman[@]}" import --quiet - "$base_image" >/dev/null
fi

# --- the build context: the executables, the libraries the base lacks, the config
step "collecting $bin_dir/{tig,tig-operator} and the shared libraries the base lacks"
context=$workdir/context
mkdir -p "$context/rootfs/usr/local/bin" "$context/rootfs/usr/local/lib" "$context/rootfs/etc/tig-operator"
install -m 0755 "$bin_dir/tig" "$bin_dir/tig-operator" "$context/rootfs/usr/local/bin/"
cp "$repo/operator/config.yaml" "$context/rootfs/etc/tig-operator/config.yaml"
# Libraries the base's dynamic loader knows, by name (e.g. libssl.so.3).
base_libraries=$(ldconfig -p -C "$rootfs/etc/ld.so.cache" | awk 'NR > 1 { print $1 }' | sort -u)
copied=0
for binary in tig tig-operator; do
  if ldd "$bin_dir/$binary" | grep -q 'not found'; then
    fail "$binary has unresolved libraries on this host: $(ldd "$bin_dir/$binary" | grep 'not found' | tr -s ' \t' ' ')"
  fi
  while read -r name path; do
    if ! grep -qxF "$name" <<<"$base_libraries" && [[ ! -e $context/rootfs/usr/local/lib/$name ]]; then
      cp --dereference "$path" "$context/rootfs/usr/local/lib/$name"
      copied=$((copied + 1))
    fi
  done < <(ldd "$bin_dir/$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
done
step "copied $copied libraries into the image's /usr/local/lib"

step "building $image from Dockerfile.runtime"
"${podman[@]}" build --quiet --pull=never --file "$repo/Dockerfile.runtime" --tag "$image" "$context" >/dev/null

for binary in tig tig-operator; do
  linked=$("${run[@]}" --rm --entrypoint ldd "$image" "/usr/local/bin/$binary") || fail "ldd $binary in the image failed"
  ! grep 'not found' <<<"$linked" || fail "$binary lacks the libraries above in the image"
done
step "both executables resolve every shared library inside the image"

# --- run it as Kubernetes would ----------------------------------------------------
# Read-only root without podman's extra tmpfs mounts (Kubernetes adds none), a
# tmpfs /data owned by the image's user (U; an emptyDir with medium Memory),
# and the port published on a free loopback port.
"${run[@]}" --detach --name "$container" \
  --read-only --read-only-tmpfs=false \
  --tmpfs /data:rw,size=64m,mode=0700,U \
  --publish 127.0.0.1::7777 --publish 127.0.0.1::9090 \
  "$image" >/dev/null
address=$("${podman[@]}" port "$container" 7777/tcp | head -n1)
admin=$("${podman[@]}" port "$container" 9090/tcp | head -n1)
[[ -n $address && -n $admin ]] || fail "the container's ports 7777 and 9090 are not published"
step "started $container ($image serve), port 7777 at $address, admin port 9090 at $admin"

answer=""
for _ in $(seq 1 60); do
  [[ $("${podman[@]}" inspect --format '{{.State.Running}}' "$container") == true ]] || fail "the server exited at start"
  answer=$(curl -sS -o /dev/null -w '%{http_code}' "http://$admin/readyz" 2>&1) && [[ $answer == 200 ]] && break
  sleep 0.5
done
[[ $answer == 200 ]] || fail "GET /readyz did not answer 200 within 30 s (last: $answer)"
step "GET /readyz on the admin port: 200"

payload="tig container smoke test $(date +%s%N) $$"
expected="/$(printf '%s' "$payload" | sha256sum | cut -c1-64).tig"
stored=$(printf '%s' "$payload" | curl -fsS -X PUT --data-binary @- "http://$address/") || fail "PUT / failed"
[[ $stored == "$expected" ]] || fail "PUT / answered '$stored', expected '$expected'"
read_back=$(curl -fsS "http://$address$stored") || fail "GET $stored failed"
[[ $read_back == "$payload" ]] || fail "GET $stored returned other bytes"
step "PUT / stored the bytes at $stored, GET returned them"

pid=$("${podman[@]}" inspect --format '{{.State.Pid}}' "$container")
read -r _ uid euid suid fsuid < <(grep '^Uid:' "/proc/$pid/status")
read -r _ gid egid sgid fsgid < <(grep '^Gid:' "/proc/$pid/status")
for id in "$uid" "$euid" "$suid" "$fsuid" "$gid" "$egid" "$sgid" "$fsgid"; do
  [[ $id == 65532 ]] || fail "the server runs as uid $uid/$euid/$suid/$fsuid gid $gid/$egid/$sgid/$fsgid, not 65532"
done
step "the server process ($pid on the host) runs as uid and gid 65532"

"${podman[@]}" stop --time 40 "$container" >/dev/null
status=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$container")
[[ $status == 0 ]] || fail "after SIGTERM the server exited with status $status"
step "SIGTERM: the server exited with status 0"

echo "container smoke test passed in $((SECONDS - started)) s"
