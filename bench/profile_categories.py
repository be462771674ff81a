#!/usr/bin/env python3
"""Where a forward's CPU time goes, from an async-profiler collapsed-stack file of `./refusal-lab bench`
(bench/profile-engine.sh writes one). Samples on the thread running GemmaModel.run are put in the first category whose
key occurs in the stack (so the order of RULES matters); other threads are summed as GC, OpenBLAS worker, other.
  bench/profile_categories.py FILE FORWARDS INTERVAL_MS
FORWARDS: forwards the run made (warm-up + repeats), to give ms per forward.
"""
import sys, collections
if len(sys.argv) != 4:
    sys.exit(__doc__)
f = sys.argv[1]; nfwd = float(sys.argv[2]); interval_ms = float(sys.argv[3])
cats = collections.Counter(); tot = 0; gc = 0; blasw = 0; other = 0
RULES = [
 ('OpenBLAS hand-off (main thread waiting for its worker: sched_yield)', ['sched_yield']),
 ('shape calculation', ['calculateOutputShape', 'calculateOutputShapes']),
 ('GEMM kernels (OpenBLAS)', ['libopenblas']),
 ('output allocation and zero-filling', ['allocateDataBuffer', 'createUninitialized', 'ArrayCacheMemoryMgr', 'Nd4j.create', 'memset', 'allocate(']),
 ('hook listener (Java)', ['HookListener', 'InterventionApplier']),
 ('rotary/bias inputs (Java)', ['blockInputs']),
 ('libnd4j op bodies and their per-call setup', ['execCustomOp2', 'execScalar', 'execTransform', 'execReduce', 'execBroadcast', 'execPairwise']),
 ('executioner Java-side per-op work (profiling hooks, TAD, pointers)', ['NativeOpExecutioner', 'DefaultOpExecutioner', 'OpContext', 'CpuTADManager']),
 ('SameDiff session bookkeeping (dependency tracking, op lookup, listeners)', ['AbstractSession', 'InferenceSession', 'SameDiff.output', 'DependencyTracker']),
 ('engine Java side (planned-graph run loop; graph building on a first call)', ['PlannedGraph', 'GemmaSegments']),
]
for line in open(f):
    stack, n = line.rstrip().rsplit(' ', 1); n = int(n)
    if 'GemmaModel.run' not in stack:
        if 'GC Thread' in stack or 'G1' in stack or 'GC_' in stack: gc += n
        elif 'blas_thread_server' in stack: blasw += n
        else: other += n
        continue
    tot += n
    for name, keys in RULES:
        if any(k in stack for k in keys):
            cats[name] += n; break
    else:
        cats['other (Java glue, JNI)'] += n
print(f'forward thread: {tot*interval_ms/nfwd:.2f} ms CPU per forward ({tot} samples); GC threads {gc*interval_ms/nfwd:.2f} ms/forward; OpenBLAS worker {blasw*interval_ms/nfwd:.2f} ms/forward; other threads (startup, JIT) {other} samples')
for c, n in cats.most_common():
    print(f'  {100*n/tot:5.1f}%  {n*interval_ms/nfwd:7.2f} ms  {c}')
