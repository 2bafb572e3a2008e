#!/usr/bin/env bash
# Runs every check: formatting, clippy, the whole test suite on SQLite and PostgreSQL, the browser tests and
# the Open311 client-library test against a running demo server. Installs what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export GRIDWARD_TEST_POSTGRES_URL="${GRIDWARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s\n' "$*"; }

step "tools"
if ! command -v cargo-nextest >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need_apt+=(fonts-noto-cjk)
[ -x /usr/bin/pdftotext ] || need_apt+=(poppler-utils)
command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi
# Independent Open311 client libraries, as a client application would use them.
if [ ! -x e2e/.venv/bin/python ] || ! e2e/.venv/bin/python -c 'import georeport, civicbot' 2>/dev/null; then
  python3 -m venv e2e/.venv
  e2e/.venv/bin/pip install -q --disable-pip-version-check georeport==0.3.1 civicbot==0.4.0
fi

step "PostgreSQL at $GRIDWARD_TEST_POSTGRES_URL"
if ! pg_isready -q -d "$GRIDWARD_TEST_POSTGRES_URL"; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -d "$GRIDWARD_TEST_POSTGRES_URL" && break; sleep 1; done
  pg_isready -d "$GRIDWARD_TEST_POSTGRES_URL"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (SQLite and PostgreSQL)"
cargo nextest run --workspace --locked --no-fail-fast

step "browser smoke test"
cargo build --locked -p gridward
data_dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export GRIDWARD_DEMO_PASSWORD="${GRIDWARD_DEMO_PASSWORD:-smoke-test-$RANDOM-password}"
./target/debug/gridward serve --demo --addr "127.0.0.1:$port" --data-dir "$data_dir" >"$data_dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data_dir"' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$data_dir/server.log"; exit 1; }
  sleep 0.5
done
# The demo's unit grids load after the server answers.
for _ in $(seq 1 360); do
  grep -q "demo grids loaded" "$data_dir/server.log" && break
  grep -q "loading the demo grids failed" "$data_dir/server.log" && { cat "$data_dir/server.log"; exit 1; }
  sleep 0.5
done
# Then its reports and cases.
for _ in $(seq 1 240); do
  grep -q "demo cases loaded" "$data_dir/server.log" && break
  grep -q "loading the demo \(reports\|cases\) failed" "$data_dir/server.log" && { cat "$data_dir/server.log"; exit 1; }
  sleep 0.5
done
(cd e2e && GRIDWARD_URL="http://127.0.0.1:$port" npm test)

step "Open311 through independent client libraries"
open311_key=$(./target/debug/gridward open311-key create python-client --data-dir "$data_dir")
(cd e2e && GRIDWARD_URL="http://127.0.0.1:$port" OPEN311_KEY="$open311_key" .venv/bin/python open311_client.py)
