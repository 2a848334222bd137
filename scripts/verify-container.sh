#!/bin/sh
# Builds the container image from the Dockerfile and checks it the way an operator meets it: the image's
# settings (non-root user, volume, port, health check), a start on an empty volume (the admin token in
# the log, /healthz, the health check's own command, files in the volume owned by the image's user), a
# real cargo publishing to and fetching from it when cargo is installed, and a stop and a second start
# on the same volume that keeps the crate. Heavy (a full image build), so not part of `npm test`.
#
#   scripts/verify-container.sh                 # docker, else podman
#
# Environment:
#   CONTAINER_ENGINE       docker or podman (default: whichever is installed, docker first)
#   BASE_IMAGE             the Dockerfile's base (default: its own, debian:bookworm-slim)
#   BUILD_CA               a CA bundle to trust while building (a TLS-inspecting proxy), passed as the
#                          build secret build_ca
#   CONTAINER_BUILD_FLAGS  extra flags for the build, CONTAINER_RUN_FLAGS for every run
#   IMAGE                  the tag to build (default localhost/cratekeeper:verify); SKIP_BUILD=1 uses it as is
#   HOST_PORT              the host port the registry is published on (default 18000)
#   CONTAINER_NETWORK=host the container shares the host's network (no port mapping; the server listens
#                          on HOST_PORT itself), for sandboxes without a bridge network, or to reach
#                          services on the host's 127.0.0.1 given as settings in CONTAINER_RUN_FLAGS
#   KEEP=1                 leave the container and the volume behind for a look
#
# On a sandbox whose kernel or limits stop the defaults (docs/operations.md, "Containers", says what
# worked here), for example:
#   CONTAINER_BUILD_FLAGS='--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096'
set -eu

cd "$(dirname "$0")/.."
engine=${CONTAINER_ENGINE:-$(command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && echo docker || echo podman)}
image=${IMAGE:-localhost/cratekeeper:verify}
port=${HOST_PORT:-18000}
name=cratekeeper-verify-$$
volume=cratekeeper-verify-$$
url=http://127.0.0.1:$port
work=$(mktemp -d)
build_flags=${CONTAINER_BUILD_FLAGS:-}
run_flags=${CONTAINER_RUN_FLAGS:-}
failures=0

say() { printf '%s\n' "verify-container: $*"; }
pass() { say "ok   $*"; }
fail() {
  say "FAIL $*"
  failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  description=$1
  shift
  if "$@" >>"$work/checks.log" 2>&1; then pass "$description"; else fail "$description (see $work/checks.log)"; fi
}
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then
    say "kept container $name, volume $volume and $work"
    return
  fi
  $engine rm -f "$name" "$name-2" >/dev/null 2>&1 || true
  $engine volume rm -f "$volume" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# start CONTAINER: runs the image on the volume, published on $port, as cargo will see it.
start() {
  if [ "${CONTAINER_NETWORK:-}" = host ]; then
    network="--network host -e CRATEKEEPER_SERVER__PORT=$port"
  else
    network="-p 127.0.0.1:$port:8000"
  fi
  # shellcheck disable=SC2086 # the extra flags are words
  $engine run -d $run_flags $network --name "$1" -v "$volume:/var/lib/cratekeeper" \
    -e CRATEKEEPER_SERVER__PUBLIC_URL="$url" "$image" >/dev/null
}
# wait_healthy CONTAINER: until /healthz answers from the host, at most a minute.
wait_healthy() {
  tries=0
  until curl -fsS -m 2 "$url/healthz" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -ge 120 ] || [ "$($engine inspect --format '{{.State.Running}}' "$1")" != true ]; then
      $engine logs "$1" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

say "engine: $engine ($($engine --version))"
if [ "${SKIP_BUILD:-}" != 1 ]; then
  set -- --format docker # podman: keep HEALTHCHECK (the OCI format has no field for it)
  [ "$engine" = docker ] && set --
  [ -n "${BASE_IMAGE:-}" ] && set -- "$@" --build-arg "BASE_IMAGE=$BASE_IMAGE"
  [ -n "${BUILD_CA:-}" ] && set -- "$@" --secret "id=build_ca,src=$BUILD_CA"
  say "building $image"
  started=$(date +%s)
  # shellcheck disable=SC2086
  $engine build "$@" $build_flags -t "$image" . >"$work/build.log" 2>&1 || {
    tail -40 "$work/build.log" >&2
    fail "the image builds"
    exit 1
  }
  pass "the image builds ($(($(date +%s) - started)) s)"
fi

inspect() { $engine image inspect --format "$1" "$image"; }
user=$(inspect '{{.Config.User}}')
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] && pass "the image runs as user $user" || fail "the image runs as a non-root user (User is '$user')"
inspect '{{json .Config.Volumes}}' | grep -q '"/var/lib/cratekeeper"' && pass "/var/lib/cratekeeper is a volume" || fail "/var/lib/cratekeeper is a volume"
inspect '{{json .Config.ExposedPorts}}' | grep -q '"8000/tcp"' && pass "port 8000 is exposed" || fail "port 8000 is exposed"
inspect '{{json .Config.Healthcheck}}' | grep -q 'container-healthcheck.mjs' && pass "the image has a health check" || fail "the image has a health check"
size=$($engine image inspect --format '{{.Size}}' "$image")
say "image size: $((size / 1000000)) MB"

$engine volume create "$volume" >/dev/null
start "$name"
if wait_healthy "$name"; then pass "/healthz answers on $url"; else
  fail "/healthz answers on $url"
  exit 1
fi
token=$($engine logs "$name" 2>/dev/null | sed -n 's/.*first token (shown only this once): \(ckt_[A-Za-z0-9]*\).*/\1/p' | head -n 1)
[ -n "$token" ] && pass "the first start prints the admin's first token" || fail "the first start prints the admin's first token"

check "the process runs as uid 10001, not root" sh -c "[ \"\$($engine exec $name id -u)\" = 10001 ]"
check "the data folder belongs to the image's user" \
  sh -c "[ \"\$($engine exec $name stat -c %U /var/lib/cratekeeper)\" = cratekeeper ]"
case "$run_flags" in
  *DATABASE__URL*) ;; # PostgreSQL: no database file
  *) check "the SQLite database is in the volume, owned by the image's user" \
    sh -c "$engine exec $name stat -c '%U %n' /var/lib/cratekeeper/cratekeeper.sqlite3 | grep -q '^cratekeeper '" ;;
esac
check "the image's health check command passes" $engine exec "$name" node /usr/local/lib/cratekeeper/container-healthcheck.mjs
if [ "$engine" = podman ]; then check "podman healthcheck run passes" podman healthcheck run "$name"; fi
check "the index refuses a request without a token (401)" \
  sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $url/index/config.json)\" = 401 ]"
check "the index answers with the token" curl -fsS -H "Authorization: $token" "$url/index/config.json"

crate=ck-verify-hello
if command -v cargo >/dev/null 2>&1 && [ -n "$token" ]; then
  export CARGO_HOME="$work/cargo-home" CARGO_REGISTRIES_VERIFY_TOKEN="$token" CARGO_TERM_COLOR=never
  mkdir -p "$CARGO_HOME" "$work/$crate/src" "$work/consumer/src"
  printf '[registries.verify]\nindex = "sparse+%s/index/"\ncredential-provider = "cargo:token"\n' "$url" >"$CARGO_HOME/config.toml"
  printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\ndescription = "checks a container"\nlicense = "MIT"\n' "$crate" >"$work/$crate/Cargo.toml"
  echo 'pub fn hello() -> &'"'"'static str { "hello" }' >"$work/$crate/src/lib.rs"
  printf '[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n%s = { version = "0.1", registry = "verify" }\n' "$crate" >"$work/consumer/Cargo.toml"
  echo 'pub use ck_verify_hello::hello;' >"$work/consumer/src/lib.rs"
  check "cargo publishes a crate to it" cargo publish --registry verify --allow-dirty --no-verify --manifest-path "$work/$crate/Cargo.toml"
  check "cargo fetches that crate from it" cargo fetch --manifest-path "$work/consumer/Cargo.toml"
  check "the fetched .crate is in cargo's cache" sh -c "ls '$CARGO_HOME'/registry/cache/*/$crate-0.1.0.crate"
else
  say "skip cargo publish and fetch: no cargo (or no token)"
fi

$engine stop "$name" >/dev/null
check "SIGTERM (stop) ends the server with exit code 0" sh -c "[ \"\$($engine inspect --format '{{.State.ExitCode}}' $name)\" = 0 ]"
$engine rm "$name" >/dev/null
start "$name-2"
if wait_healthy "$name-2"; then pass "a second container starts on the same volume"; else fail "a second container starts on the same volume"; fi
check "the second start creates no new admin (the data survived in the volume)" \
  sh -c "! $engine logs $name-2 2>&1 | grep -q 'first token'"
if [ -n "$token" ]; then
  check "the first container's token works on the second" curl -fsS -H "Authorization: $token" "$url/index/config.json"
  if command -v cargo >/dev/null 2>&1; then
    check "the published crate is still in the index" curl -fsS -H "Authorization: $token" "$url/index/ck/-v/$crate"
  fi
fi

if [ "$failures" -gt 0 ]; then
  say "$failures check(s) failed"
  exit 1
fi
say "all checks passed"
