#!/usr/bin/env bash
# The Dockerfile's steps without a container engine (none runs on the CI
# machine): build and install the binaries as the build stage does, then
# run the image's command as its user (65532) from an empty directory with
# the image's environment, and check what the image promises:
#
# - it starts with the bundled lists (no source tree, nothing mounted);
# - the HEALTHCHECK command answers SERVING;
# - a word-list directory mounted at /etc/contentfilter/wordlists
#   (here: a copy) with FILTER_WORDLISTS is used;
# - SIGTERM drains and exits 0.
#
# Listeners are moved to 127.0.0.1 ports chosen by the kernel: tests bind
# loopback only. The script also checks that the Dockerfile still holds
# the commands it copies, so the two cannot drift apart silently.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "container-steps: $*" >&2; exit 1; }

# The Dockerfile holds the commands run here.
build='cargo build --release --locked -p filter-server -p filter-proxy'
grep -qF "RUN $build" Dockerfile || fail "the Dockerfile no longer builds with: $build"
health='"/usr/local/bin/filter-server", "health", "--addr", "127.0.0.1:50051"'
grep -qF "$health" Dockerfile || fail "the Dockerfile's HEALTHCHECK changed"
grep -qF 'USER 65532:65532' Dockerfile || fail "the Dockerfile's user changed"
grep -qF 'ENTRYPOINT ["/usr/local/bin/filter-server"]' Dockerfile || fail "ENTRYPOINT changed"
grep -qF 'CMD ["serve"]' Dockerfile || fail "CMD changed"

# Build stage.
$build
install -D -m 0755 target/release/filter-server "$work/out/usr/local/bin/filter-server"
install -D -m 0755 target/release/filter-proxy "$work/out/usr/local/bin/filter-proxy"
bin=$work/out/usr/local/bin

# The runtime user, where this machine lets us switch to it.
as_user=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    as_user=(setpriv --reuid=65532 --regid=65532 --clear-groups --)
    chmod 0755 "$work" "$work/out" "$work/out/usr" "$work/out/usr/local" "$bin"
fi
mkdir -m 0777 "$work/empty"

# Starts the image's command; sets server_pid, grpc and http (addresses).
start() {
    local log=$work/server.log
    (cd "$work/empty" && exec env -i PATH=/usr/bin:/bin \
        FILTER_LISTEN=127.0.0.1:0 FILTER_HTTP_LISTEN=127.0.0.1:0 \
        FILTER_METRICS_LISTEN=127.0.0.1:0 FILTER_LOG_FORMAT=json "$@" \
        "${as_user[@]}" "$bin/filter-server" serve) >"$log" 2>"$work/server.err" &
    server_pid=$!
    grpc=
    for _ in $(seq 1 300); do
        grpc=$(sed -n 's/^filter-server listening on //p' "$log")
        http=$(sed -n 's|^filter-server http on http://||p' "$log")
        [ -n "$grpc" ] && [ -n "$http" ] && break
        kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$work/server.err")"
        sleep 0.1
    done
    [ -n "$grpc" ] || fail "the server did not start"
}

stop() {
    kill -TERM "$server_pid"
    local status=0
    wait "$server_pid" || status=$?
    server_pid=
    [ "$status" = 0 ] || fail "SIGTERM: exit status $status, not 0"
}

# 1. The bundled lists, nothing mounted.
start
answer=$(curl -sS "http://$http/v1/scan" -H "content-type: application/json" -d "{\"text\":\"这是容器专用词\"}") || fail "HTTP scan"
echo "$answer" | grep -q "KIND_SENSITIVE_WORD" && fail "the bundled lists hold the test word: $answer"
state=$("$bin/filter-server" health --addr "$grpc") || fail "health: $state"
[ "$state" = SERVING ] || fail "health said $state"
found=$(printf '代开发票，手机13800138000' | (cd "$work/empty" && "$bin/filter-server" scan --format json) || true)
echo "$found" | grep -q '"kind":"sensitive_word"' || fail "scan found no word with the bundled lists: $found"
echo "$found" | grep -q '"kind":"phone"' || fail "scan found no phone: $found"
stop

# 2. A directory at the documented mount path (a copy, readable by 65532).
mkdir -p "$work/etc/contentfilter"
cp -r "$root/wordlists" "$work/etc/contentfilter/wordlists"
printf '容器专用词\n' >>"$work/etc/contentfilter/wordlists/fraud.txt"
chmod -R a+rX "$work/etc"
start FILTER_WORDLISTS="$work/etc/contentfilter/wordlists"
"$bin/filter-server" health --addr "$grpc" >/dev/null || fail "health with mounted lists"
answer=$(curl -sS "http://$http/v1/scan" -H "content-type: application/json" -d "{\"text\":\"这是容器专用词\"}") || fail "HTTP scan"
echo "$answer" | grep -q "KIND_SENSITIVE_WORD" || fail "the server did not use the mounted list: $answer"
stop

# 3. The proxy binary starts from the same image layout.
"$bin/filter-proxy" --help >/dev/null || fail "filter-proxy --help"

echo "container-steps: the image's steps pass (user: ${as_user[*]:-current})"
