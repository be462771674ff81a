#!/usr/bin/env bash
# Retrains the default model's weights with the README's recipe and times it: the three runs of the 18-layer model
# grown from the 6-layer toy-gemma of commit e0f0a3e. Writes into OUT (default .work/toy-gemma-retrain; never into
# models/), then compares every stage's weights with the shipped ones by SHA-256 (the trainer is deterministic).
# Usage (from the repository root, after "mvn -q -B -DskipTests install"): bundles/toymodel/train-toy-gemma.sh [OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${1:-.work/toy-gemma-retrain}"
mkdir -p "$OUT"
if [[ ! -f "$OUT/toy-gemma-6/model.safetensors" ]]; then
  mkdir -p "$OUT/toy-gemma-6"
  git archive e0f0a3e models/toy-gemma | tar -x --strip-components=2 -C "$OUT/toy-gemma-6"
fi
cp="bundles/toymodel/target/classes:$(cd bundles/toymodel && mvn -q ${MAVEN_ARGS:-} dependency:build-classpath -Dmdep.outputFile=/dev/stdout)"
train() {
  OMP_NUM_THREADS=1 java -Dorg.bytedeco.javacpp.maxbytes=10G -Dorg.bytedeco.javacpp.maxphysicalbytes=12G \
    -cp "$cp" org.refusallab.toymodel.TrainToyModel "$@"
}
stage() { # NAME, then TrainToyModel options; prints the stage's wall time and load average
  local name="$1"; shift
  local t0=$SECONDS
  train "$@" --out "$OUT/$name" --skip-eval > "$OUT/$name.log" 2>&1 || { tail -20 "$OUT/$name.log"; exit 1; }
  echo "$name: $((SECONDS - t0)) s (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/times.txt"
}
start=$SECONDS
: > "$OUT/times.txt"
stage toy-gemma-2a --grow-from "$OUT/toy-gemma-6"
stage toy-gemma-2b --grow-from "$OUT/toy-gemma-2a" --steps 32 --lr 1.5e-3 --train-seed 20240428
stage toy-gemma   --grow-from "$OUT/toy-gemma-2b" --steps 80 --lr 1e-3 --train-seed 20240429
echo "18-layer training: $((SECONDS - start)) s in all (the 6-layer model of e0f0a3e: 501 s by its commit)" | tee -a "$OUT/times.txt"
want=$(sha256sum models/toy-gemma/model.safetensors | cut -d' ' -f1)
got=$(sha256sum "$OUT/toy-gemma/model.safetensors" | cut -d' ' -f1)
if [[ "$want" == "$got" ]]; then
  echo "weights identical to models/toy-gemma (sha256 $got)" | tee -a "$OUT/times.txt"
else
  echo "weights DIFFER from models/toy-gemma: $got, shipped $want" | tee -a "$OUT/times.txt"
  exit 2
fi
