#!/usr/bin/env bash
# Makes the base images that Dockerfile and docker-compose.yml name available to podman on a machine
# that reaches no image registry (only Debian's package mirror): debian:12 (+ the same image tagged
# 12-slim) from debootstrap, and stand-ins for redis:7 and nginx:1.26 built FROM it with Debian's
# packages (standins/*.Containerfile say how they match the official images).
# Cached: an image that exists (and, for a stand-in, was built from the current Containerfile) is
# kept, so only the first run pays for debootstrap (~5 min). Usage: base-images.sh [--rebuild]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MIRROR=${CLICKRACE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN=docker.io/library/debian:12
rebuild=0
[[ "${1:-}" == --rebuild ]] && rebuild=1

say() { printf 'base-images: %s\n' "$*"; }
now() { date +%s; }

if ((rebuild)) || ! podman image exists "$DEBIAN"; then
  t0=$(now)
  root=$(mktemp -d /var/tmp/clickrace-debootstrap.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  say "debootstrap bookworm from $MIRROR (a few minutes, once)"
  if ! debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$root.log" 2>&1; then
    tail -n 30 "$root.log" >&2
    say "debootstrap failed (log above)" >&2
    exit 1
  fi
  rm -f "$root.log"
  # What the official image also leaves out: package lists and caches.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | podman import --quiet --change 'CMD ["bash"]' - "$DEBIAN" >/dev/null
  podman tag "$DEBIAN" docker.io/library/debian:12-slim
  rm -rf "$root"
  trap - EXIT
  say "debian:12 imported in $(($(now) - t0)) s"
else
  podman image exists docker.io/library/debian:12-slim || podman tag "$DEBIAN" docker.io/library/debian:12-slim
  say "debian:12 cached"
fi

# A stand-in is rebuilt when its Containerfile changed (its hash is kept in a label).
standin() {
  local image=$1 file=$here/standins/$2
  local want have
  want=$(sha256sum "$file" | cut -c1-16)
  have=$(podman image inspect --format '{{index .Labels "clickrace.standin"}}' "$image" 2>/dev/null || true)
  if ((rebuild)) || [[ "$have" != "$want" ]]; then
    local t0; t0=$(now)
    say "building stand-in $image"
    podman build --pull=never --label "clickrace.standin=$want" -t "$image" -f "$file" "$here/standins" \
      >"/var/tmp/clickrace-standin.log" 2>&1 || {
      tail -n 30 /var/tmp/clickrace-standin.log >&2
      say "building $image failed (log above)" >&2
      exit 1
    }
    say "$image built in $(($(now) - t0)) s"
  else
    say "$image cached"
  fi
}
standin docker.io/library/redis:7 redis.Containerfile
standin docker.io/library/nginx:1.26 nginx.Containerfile
