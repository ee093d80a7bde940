#!/usr/bin/env bash
# Builds the real kube-apiserver and kube-scheduler used by the Kubernetes executor's integration tests from Debian's
# Kubernetes source package (no download from outside Debian's archive), and installs etcd from Debian.
# The binaries go to a cache outside the repository (WEFT_K8S_CACHE, default /var/cache/weft-k8s) and are never
# committed; a second call with the cache warm does nothing. ~20 min on 2 cores when cold.
set -euo pipefail
cache="${WEFT_K8S_CACHE:-/var/cache/weft-k8s}"
bin="$cache/bin"
if [[ -x "$bin/kube-apiserver" && -x "$bin/kube-scheduler" && -x "$(command -v etcd || true)" ]]; then
  echo "k8s binaries cached in $bin"; exit 0
fi
mkdir -p "$cache" "$bin"
exec 9>"$cache/.build.lock"
flock 9
if [[ -x "$bin/kube-apiserver" && -x "$bin/kube-scheduler" && -x "$(command -v etcd || true)" ]]; then
  echo "k8s binaries cached in $bin"; exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# A deb-src entry derived from the existing deb822 sources (same mirror, suites, components, key).
src_list=/etc/apt/sources.list.d/weft-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  awk 'BEGIN{RS=""; ORS="\n\n"} /Types:/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' \
    /etc/apt/sources.list.d/debian.sources | as_root tee "$src_list" >/dev/null
fi
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq golang-go etcd-server dpkg-dev >/dev/null

if [[ -x "$bin/kube-apiserver" && -x "$bin/kube-scheduler" ]]; then
  echo "k8s binaries cached in $bin (etcd installed)"; exit 0
fi
work="$cache/src"
mkdir -p "$work"
cd "$work"
if ! ls -d kubernetes-*/ >/dev/null 2>&1; then
  apt-get source -qq kubernetes >/dev/null
fi
tree=$(ls -d kubernetes-*/ | head -n1)
cd "$tree"
export CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor GO111MODULE=on
for what in kube-apiserver kube-scheduler; do
  if [[ ! -x "$bin/$what" ]]; then
    echo "building $what (this takes several minutes)"
    make WHAT="cmd/$what" >"$cache/build-$what.log" 2>&1 || { tail -n 40 "$cache/build-$what.log"; exit 1; }
    cp "_output/bin/$what" "$bin/$what.tmp" && mv "$bin/$what.tmp" "$bin/$what"
  fi
done
# The extracted tree (~2 GB) is only needed to build; the source package stays for a rebuild without the archive.
cd "$work" && rm -rf "$tree"
echo "k8s binaries built into $bin"
