#!/usr/bin/env bash
# CPU profile of the engine's forward with native frames (async-profiler), summarised by bench/profile_categories.py.
#   ASYNC_PROFILER=/path/to/libasyncProfiler.so CONFIG=models/toy-gemma BATCH=1 SEQ=16 REPEATS=500 WARMUP=50 bench/profile-engine.sh
# async-profiler is on Maven Central (tools.profiler:async-profiler, Linux natives inside the jar):
#   mvn dependency:get -Dartifact=tools.profiler:async-profiler:3.0 -Dtransitive=false
#   unzip ~/.m2/repository/tools/profiler/async-profiler/3.0/async-profiler-3.0.jar 'linux-x64/*' -d /tmp/asprof
# Output: bench/out/profile-<UTC time>/{engine.txt,engine.collapsed,summary.txt}. Threads as bench/engine-vs-pytorch.sh.
set -euo pipefail
TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${ASYNC_PROFILER:?set ASYNC_PROFILER to libasyncProfiler.so (see the header of this script)}"
CONFIG="${CONFIG:-models/toy-gemma}"; BATCH="${BATCH:-1}"; SEQ="${SEQ:-16}"; REPEATS="${REPEATS:-500}"; WARMUP="${WARMUP:-50}"
THREADS="${THREADS:-2}"; INTERVAL_US="${INTERVAL_US:-500}"
OUT="$TOP/bench/out/profile-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
OMP_NUM_THREADS=1 REFUSAL_LAB_BLAS_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
REFUSAL_LAB_JAVA_OPTS="-Xmx2g -agentpath:$ASYNC_PROFILER=start,event=cpu,interval=${INTERVAL_US}us,cstack=fp,file=$OUT/engine.collapsed" \
  "$TOP/refusal-lab" bench --config "$CONFIG" --batch "$BATCH" --seq "$SEQ" --repeats "$REPEATS" --warmup "$WARMUP" | tee "$OUT/engine.txt"
{
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg); config $CONFIG, batch $BATCH, seq $SEQ, $WARMUP warm-up + $REPEATS forwards"
  python3 "$TOP/bench/profile_categories.py" "$OUT/engine.collapsed" "$((WARMUP + REPEATS))" "$(awk "BEGIN { print $INTERVAL_US / 1000 }")"
} | tee "$OUT/summary.txt"
