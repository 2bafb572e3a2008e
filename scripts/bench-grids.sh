#!/usr/bin/env bash
# Unit grids at city scale (BENCHMARKS.md, "Grids"): imports ~100,000 grids over the demo city's
# communities, times point lookups on one core, and answers the same points with PostGIS ST_Contains over a
# GiST index, one query per point and as one spatial join. Installs Debian's PostGIS for the running
# PostgreSQL when it is missing. Usage: scripts/bench-grids.sh [grids] [points] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
grids=${1:-100000}
points=${2:-1000000}
store=${3:-sqlite}
admin=${GRIDWARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
base=${admin%/*}

major=$(psql "$admin" -Atc "SHOW server_version_num" | cut -c1-2)
if [ ! -e "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$major-postgis-3"
fi
for db in gridward_bench_postgis gridward_bench_store; do
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db" && psql "$admin" -qc "CREATE DATABASE $db"
done

cargo build --release --locked -p gridward
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db_args=()
if [ "$store" = postgres ]; then db_args=(--db "$base/gridward_bench_store"); fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
./target/release/gridward --data-dir "$dir" "${db_args[@]}" bench grids --grids "$grids" --points "$points" \
  --postgis "$base/gridward_bench_postgis"
