#!/usr/bin/env bash
# Runs the browser tests against a real anju server: builds it, starts it on a free port with a
# fresh data directory (SQLite, sample city), creates a unit user, a supervisor and an inspector with the CLI,
# then runs `npm test` in Debian's Chromium. Stops the server whatever happens.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build -q -p anju-server --bin anju
bin="${CARGO_TARGET_DIR:-$root/target}/debug/anju"
data="$(mktemp -d)"
port="${ANJU_TEST_PORT:-18765}"
export ANJU_DATA_DIR="$data" ANJU_ADDR="127.0.0.1:$port" ANJU_ADMIN_PASSWORD="admin-password-for-browser" \
       ANJU_INTAKE_PER_MINUTE=600 ANJU_LOG=warn
pw="browser-test-password"
echo "$pw" | "$bin" user create --username unit.tester --role unit_staff --unit hexi_jianshe_office --display-name "测试经办人" >/dev/null
echo "$pw" | "$bin" user create --username supervisor.tester --role supervisor --display-name "测试督办员" >/dev/null
echo "$pw" | "$bin" user create --username inspector.tester --role inspector --unit hexi_jianshe_office --display-name "测试检查员" >/dev/null
"$bin" serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$data/server.log"; exit 1; }

cd "$root/web-tests"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --silent
export ANJU_URL="http://127.0.0.1:$port" \
       ANJU_UNIT_USER=unit.tester ANJU_UNIT_PASSWORD="$pw" \
       ANJU_SUPERVISOR_USER=supervisor.tester ANJU_SUPERVISOR_PASSWORD="$pw" \
       ANJU_INSPECTOR_USER=inspector.tester ANJU_INSPECTOR_PASSWORD="$pw" \
       ANJU_ADMIN_USER=admin ANJU_ADMIN_PASSWORD="admin-password-for-browser"
if [ "${1:-}" = "screenshots" ]; then
  node screenshots.mjs
elif [ "${1:-}" = "weight" ]; then
  node weight.mjs
elif [ "${1:-}" = "field-bench" ]; then
  node field-bench.mjs
elif [ -n "${1:-}" ]; then
  node --test --test-concurrency=1 "$@"   # e.g. bash run.sh tests/registers_import.test.mjs
else
  npm test
fi
