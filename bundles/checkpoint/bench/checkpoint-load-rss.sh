#!/usr/bin/env bash
# Peak RSS of Checkpoint.load on a gemma-2b-shaped bf16 checkpoint in two shards (~5 GB on disk, ~10 GB as
# float32). Writes the checkpoint under $BENCH_TMP (default /tmp), loads it in a fresh JVM, deletes it.
set -euo pipefail
module=$(cd "$(dirname "$0")/.." && pwd)
cd "$module"

parent=${BENCH_TMP:-/tmp}
free_kb=$(df -Pk "$parent" | awk 'NR == 2 {print $4}')
if (( free_kb < 7 * 1024 * 1024 )); then
  echo "need about 6 GB free under $parent, have $((free_kb / 1024)) MB" >&2
  exit 1
fi

mvn -q -B -o install -DskipTests
mvn -q -B -o dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=runtime
classpath="target/classes:$(cat target/bench-classpath.txt)"
jvm=(-Xmx2g -Dorg.bytedeco.javacpp.maxbytes=14G -Dorg.bytedeco.javacpp.maxphysicalbytes=20G)

work=$(mktemp -d "$parent/checkpoint-rss.XXXXXX")
trap 'rm -rf "$work"' EXIT

java "${jvm[@]}" -cp "$classpath" org.refusallab.checkpoint.LoadMemoryBenchmark write "$work/gemma-2b-random"
ls -l "$work/gemma-2b-random"
java "${jvm[@]}" -cp "$classpath" org.refusallab.checkpoint.LoadMemoryBenchmark load "$work/gemma-2b-random"
