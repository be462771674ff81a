#!/usr/bin/env bash
# The engine's forward (./refusal-lab bench) against the same Gemma-1 forward in PyTorch eager
# (bench/torch_gemma_forward.py), one after the other in one run, on the same machine, same shapes, random float32
# weights. PyTorch gets the OpenBLAS that ND4J loads (LD_PRELOAD) and the same thread count, and both run under the
# OPENBLAS_CORETYPE already in the environment (not changed here).
#   bench/engine-vs-pytorch.sh                 # gemma-2b shapes, batches 1,6,24, seq 24
#   BATCHES=1,2 SEQ=8 CONFIG=path/to/dir bench/engine-vs-pytorch.sh
#   DECODE=64 BATCHES=1,6 REPEATS=1 bench/engine-vs-pytorch.sh   # greedy decoding of 64 tokens after SEQ: the engine's
#                                  # key/value-cached generate against bench/torch_gemma_decode.py (PyTorch with a cache)
# Needs: the launcher built (mvn -q -B -o -pl bundles/launcher install -DskipTests), python3-torch (Debian).
# ENGINE_WEIGHTS=checkpoint: the engine loads CONFIG's safetensors (e.g. bench/make_random_checkpoint.py's) instead of
# making random weights (ND4J's randn: minutes at gemma-2b); PyTorch makes its own random weights either way.
# Memory: each side holds the weights (10 GB for gemma-2b) in turn, never both at once.
# Output: bench/out/<UTC time>/{engine.txt,torch.txt,summary.txt}; the summary is also printed.
# BENCH_JFR=1 also records a Java Flight Recording of the engine run (engine.jfr) and prints its top frames.
set -euo pipefail

TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BATCHES="${BATCHES:-1,6,24}"
SEQ="${SEQ:-24}"
REPEATS="${REPEATS:-5}"
WARMUP="${WARMUP:-1}"
THREADS="${THREADS:-2}"
TORCH_OMP_THREADS="${TORCH_OMP_THREADS:-$THREADS}" # PyTorch's own OpenMP threads (element-wise ops); BLAS gets $THREADS
PYTHON="${PYTHON:-/usr/bin/python3}" # Debian's python3-torch is for the system Python
CONFIG="${CONFIG:-gemma-2b}"
DECODE="${DECODE:-0}" # > 0: time generation of this many new tokens instead of one forward
OUT="$TOP/bench/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"

"$PYTHON" -c 'import torch' 2>/dev/null || { echo "engine-vs-pytorch: python3 cannot import torch (apt-get install -y python3-torch; PYTHON=...)" >&2; exit 1; }
JAR="$TOP/bundles/launcher/target/refusal-lab-launcher.jar"
[[ -f "$JAR" ]] || { echo "engine-vs-pytorch: $JAR missing (mvn -q -B -o -pl bundles/launcher install -DskipTests)" >&2; exit 1; }

{
  echo "date: $(date -u)"
  echo "machine: $(nproc) cores, $(awk '/^MemTotal/ {printf "%.1f GB", $2/1e6}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, threads $THREADS (engine: 1 OpenMP + $THREADS BLAS; PyTorch: $TORCH_OMP_THREADS OpenMP + $THREADS BLAS), config $CONFIG, batches $BATCHES, seq $SEQ, decode $DECODE, $REPEATS repeats after $WARMUP warm-up"
} | tee "$OUT/summary.txt"

JFR_OPTS=""
if [[ "${BENCH_JFR:-0}" == 1 ]]; then
  JFR_OPTS="-XX:StartFlightRecording=filename=$OUT/engine.jfr,settings=profile"
fi
echo "--- engine" >&2
# The engine as ./refusal-lab runs it: element-wise ops on one OpenMP thread, matrix products on $THREADS.
OMP_NUM_THREADS=1 REFUSAL_LAB_BLAS_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
REFUSAL_LAB_JAVA_OPTS="-Xmx2g -Dorg.bytedeco.javacpp.maxbytes=16G -Dorg.bytedeco.javacpp.maxphysicalbytes=20G $JFR_OPTS" \
  "$TOP/refusal-lab" bench --config "$CONFIG" --weights "${ENGINE_WEIGHTS:-random}" --batch "$BATCHES" --seq "$SEQ" --repeats "$REPEATS" --warmup "$WARMUP" --decode "$DECODE" | tee "$OUT/engine.txt"
echo "load after engine: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"

# The OpenBLAS the engine had mapped (printed by bench), without the no-LAPACK twin.
BLAS="$(grep '^threads:' "$OUT/engine.txt" | grep -o '/[^ ]*libopenblas\.so\.0' | head -1 || true)"
[[ -n "$BLAS" && -f "$BLAS" ]] || { echo "engine-vs-pytorch: could not find the engine's libopenblas.so.0 in $OUT/engine.txt" >&2; exit 1; }
TORCH_CONFIG="$CONFIG"
[[ "$CONFIG" == gemma-2b ]] || TORCH_CONFIG="$(cd "$TOP" && realpath "$CONFIG")/config.json"
echo "--- pytorch (LD_PRELOAD=$BLAS)" >&2
TORCH_SCRIPT=torch_gemma_forward.py TORCH_DECODE=()
if [[ "$DECODE" -gt 0 ]]; then TORCH_SCRIPT=torch_gemma_decode.py TORCH_DECODE=(--decode "$DECODE"); fi
LD_PRELOAD="$BLAS" OMP_NUM_THREADS="$TORCH_OMP_THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
  "$PYTHON" "$TOP/bench/$TORCH_SCRIPT" --config "$TORCH_CONFIG" --batch "$BATCHES" --seq "$SEQ" \
  --repeats "$REPEATS" --warmup "$WARMUP" --threads "$TORCH_OMP_THREADS" "${TORCH_DECODE[@]}" | tee "$OUT/torch.txt"
echo "load after pytorch: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"

if [[ "$DECODE" -gt 0 ]]; then
  # Both sides print "batch seq new generate_s tokens/s prefill_s step_ms peak_rss_GB min_s max_s"; joined on batch.
  # tok/s_ratio: the engine's decode tokens/s over PyTorch's (>= 1: the engine is at least as fast).
  {
    echo
    printf '%-6s %-5s %-5s %-11s %-11s %-10s %-10s %-12s %-10s %-10s %-10s %-10s %-9s %-9s\n' batch seq new sd_generate_s pt_generate_s \
      sd_tok/s pt_tok/s tok/s_ratio sd_step_ms pt_step_ms sd_prefill pt_prefill sd_rss_GB pt_rss_GB
    awk 'FNR == 1 { file++ } /^batch +seq +new +generate_s/ { table[file] = 1; next } table[file] && NF >= 10 && $1 ~ /^[0-9]+$/ {
           if (file == 1) { sd[$1] = $4; sdt[$1] = $5; sdp[$1] = $6; sds[$1] = $7; sdr[$1] = $8; order[++n] = $1; s[$1] = $2; nn[$1] = $3 }
           else { pt[$1] = $4; ptt[$1] = $5; ptp[$1] = $6; pts[$1] = $7; ptr[$1] = $8 } }
         END { for (i = 1; i <= n; i++) { b = order[i]
                 printf "%-6s %-5s %-5s %-11s %-11s %-10s %-10s %-12.2f %-10s %-10s %-10s %-10s %-9s %-9s\n", b, s[b], nn[b], sd[b], pt[b], sdt[b], ptt[b],
                   sdt[b] / ptt[b], sds[b], pts[b], sdp[b], ptp[b], sdr[b], ptr[b] } }' "$OUT/engine.txt" "$OUT/torch.txt"
    grep '^peak RSS' "$OUT/engine.txt" | sed 's/^/samediff: /'
    grep '^peak RSS' "$OUT/torch.txt" | sed 's/^/pytorch:  /'
  } | tee -a "$OUT/summary.txt"
  exit 0
fi

# The two tables (header "batch seq forward_s ...") joined on batch size; times are medians, min/max beside them
# (sd_med/min: how far the engine's median is above its fastest forward; the same for PyTorch).
{
  echo
  printf '%-6s %-5s %-10s %-10s %-7s %-10s %-10s %-10s %-10s %-10s %-10s %-11s %-11s %-9s %-9s\n' batch seq samediff_s pytorch_s ratio \
    sd_min_s sd_max_s pt_min_s pt_max_s sd_med/min pt_med/min sd_gemm_GF/s pt_gemm_GF/s sd_rss_GB pt_rss_GB
  awk 'FNR == 1 { file++ } /^batch +seq +forward_s/ { table[file] = 1; next } table[file] && NF >= 5 && $1 ~ /^[0-9]+$/ {
         if (file == 1) { sd[$1] = $3; sdg[$1] = $6; sdr[$1] = $7; sdlo[$1] = $8; sdhi[$1] = $9; order[++n] = $1; s[$1] = $2 }
         else { pt[$1] = $3; ptg[$1] = $5; ptr[$1] = $6; ptlo[$1] = $7; pthi[$1] = $8 } }
       END { for (i = 1; i <= n; i++) { b = order[i]
               printf "%-6s %-5s %-10s %-10s %-7.2f %-10s %-10s %-10s %-10s %-10.2f %-10.2f %-11s %-11s %-9s %-9s\n", b, s[b], sd[b], pt[b], sd[b] / pt[b],
                 sdlo[b], sdhi[b], ptlo[b], pthi[b], sd[b] / sdlo[b], pt[b] / ptlo[b], sdg[b], ptg[b], sdr[b], ptr[b] } }' \
    "$OUT/engine.txt" "$OUT/torch.txt"
  grep '^peak RSS' "$OUT/engine.txt" | sed 's/^/samediff: /'
  grep '^peak RSS' "$OUT/torch.txt" | sed 's/^/pytorch:  /'
} | tee -a "$OUT/summary.txt"

if [[ -f "$OUT/engine.jfr" ]]; then
  jfr print --events jdk.ExecutionSample "$OUT/engine.jfr" > "$OUT/engine-samples.txt"
  echo "top frames (JFR execution samples of the engine run):" | tee -a "$OUT/summary.txt"
  grep -A1 'stackTrace = \[' "$OUT/engine-samples.txt" | grep -v -e 'stackTrace' -e '^--' | sed 's/line:.*//' | sort | uniq -c | sort -rn | head -15 | tee -a "$OUT/summary.txt"
fi
