#!/usr/bin/env bash
# The done-when check of issue #16: the whole study run in-process and with its sweeps on Spark publishes the same
# report (every number within 1e-5 of its quantity's scale, every other value, verdicts and greedy completions
# included, equal). Usage: bench/spark-vs-inprocess.sh [MASTER] [extra run options, e.g. --model DIR]
#   MASTER defaults to local[2]; local-cluster[2,1,2048] runs two executor JVMs that load the model themselves.
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MASTER="${1:-local[2]}"
shift || true
OUT="$(mktemp -d /tmp/refusal-lab-spark-compare.XXXXXX)"
echo "reports in $OUT"
"$HOME_DIR/refusal-lab" run --out "$OUT/in-process" "$@" > "$OUT/in-process.log" 2>&1 || { tail -20 "$OUT/in-process.log"; exit 1; }
"$HOME_DIR/refusal-lab" run --spark "$MASTER" --out "$OUT/spark" "$@" > "$OUT/spark.log" 2>&1 || { tail -20 "$OUT/spark.log"; exit 1; }
grep -c "on Spark" "$OUT/spark.log" | xargs echo "progress lines of sweeps on Spark:"
python3 "$HOME_DIR/bench/compare-reports.py" "$OUT/in-process" "$OUT/spark"
