#!/usr/bin/env bash
# Measures `gridward serve --demo`: time from exec to the first 200 from /healthz, on an empty database
# (demo city load included; its grids and reports follow in the background and are awaited before the
# restart) and on an existing one, and the resident memory once idle. Prints a Markdown table.
# Usage: scripts/bench-startup.sh [runs] (build first: cargo build --release -p gridward)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
bin=./target/release/gridward
export GRIDWARD_DEMO_PASSWORD=bench-password-1
port=18181
url="http://127.0.0.1:$port/healthz"

# Starts the server, waits for /healthz, prints "<ms to ready> <pid>".
start() {
  local dir=$1 t0 t1
  t0=$(date +%s%N)
  "$bin" serve --demo --addr "127.0.0.1:$port" --data-dir "$dir" >>"$dir/server.log" 2>&1 &
  local pid=$!
  until curl -fs -o /dev/null "$url"; do sleep 0.005; done
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000000 )) $pid"
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

first=() ; again=() ; rss=()
for _ in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  read -r ms pid < <(start "$dir"); first+=("$ms")
  # The demo's grids and reports load after the server answers; the restart below is of a whole demo.
  until grep -q "demo reports loaded" "$dir/server.log"; do sleep 0.2; done
  stop "$pid"
  read -r ms pid < <(start "$dir"); again+=("$ms")
  sleep 2
  rss+=("$(rss_mb "$pid")"); stop "$pid"
  rm -rf "$dir"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m_first=$(median "${first[@]}"); m_again=$(median "${again[@]}"); m_rss=$(median "${rss[@]}")
echo "| measure | median of $runs | all runs | target | ratio to target |"
echo "|---|---|---|---|---|"
echo "| ready on an empty database (demo load) | ${m_first} ms | ${first[*]} | 3000 ms | $(awk "BEGIN {printf \"%.2f\", $m_first / 3000}") |"
echo "| ready on an existing database | ${m_again} ms | ${again[*]} | 1000 ms | $(awk "BEGIN {printf \"%.2f\", $m_again / 1000}") |"
echo "| idle RSS on an existing database | ${m_rss} MB | ${rss[*]} | 100 MB | $(awk "BEGIN {printf \"%.2f\", $m_rss / 100}") |"
