#!/usr/bin/env bash
# Sweep throughput and model-load time, in-process against Spark, in one JVM (the numbers are ratios taken together):
#   bench/spark-sweep.sh [MODEL_DIR] [ROWS] [MAX_BATCH] [ROUNDS] [MASTERS...]
# defaults: models/toy-gemma, 1200 rows, batches of 32, 3 rounds, masters local[1] local-cluster[2,1,1024]
# SEQUENTIAL=1: in-process rounds first, then the model is closed before Spark loads its own (one copy at a time:
# gemma-2b); HEAP / SPARK_MEMORY_OVERHEAD / MAXBYTES / MAXPHYS: the JVM's heap and off-heap limits.
# (local-cluster: two executor JVMs of one core each, started by an in-process standalone master and worker from
# bundles/spark-sweep/target/spark, which holds the Maven-resolved Spark jars). Build first:
#   mvn -pl bundles/spark-sweep -am install -DskipTests
set -euo pipefail
HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:-$HOME_DIR/models/toy-gemma}"
ROWS="${2:-1200}"
BATCH="${3:-32}"
ROUNDS="${4:-3}"
shift 4 2>/dev/null || shift $#
MODES=("$@")
[[ ${#MODES[@]} -gt 0 ]] || MODES=('local[1]' 'local-cluster[2,1,1024]')
OPENS="-XX:+IgnoreUnrecognizedVMOptions"
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  OPENS="$OPENS --add-opens=java.base/$p=ALL-UNNAMED"
done
# the launcher's thread settings for the driver (and so for in-process and local[N]); executors get theirs from SparkSweep.conf
# run --spark local-cluster[...]: in-process Spark workers start executor JVMs from $SPARK_HOME/jars, the Maven-resolved
# class path of bundles/spark-sweep (a real cluster's workers use their own Spark home)
export SPARK_HOME="${SPARK_HOME:-$HOME_DIR/bundles/spark-sweep/target/spark}"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
exec java -Xmx${HEAP:-3g} $OPENS -Dorg.bytedeco.javacpp.cachedir.nosubdir=true -Dspark.executor.memoryOverhead=${SPARK_MEMORY_OVERHEAD:-1g} \
  -Dbench.sequential=${SEQUENTIAL:+true} ${MAXBYTES:+-Dorg.bytedeco.javacpp.maxbytes=$MAXBYTES} ${MAXPHYS:+-Dorg.bytedeco.javacpp.maxphysicalbytes=$MAXPHYS} \
  -cp "$HOME_DIR/bundles/spark-sweep/target/spark/jars/*" org.refusallab.spark.SweepBenchmark "$MODEL" "$ROWS" "$BATCH" "$ROUNDS" "${MODES[@]}"
