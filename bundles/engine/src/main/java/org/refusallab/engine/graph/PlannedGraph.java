package org.refusallab.engine.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BaseOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.shape.Shape;
import org.nd4j.linalg.api.ops.impl.shape.Size;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.api.ops.impl.shape.Rank;
import org.nd4j.linalg.api.ops.impl.shape.Reshape;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Runs an inference SameDiff graph (no control flow) without SameDiff's InferenceSession. SameDiff M2.1 redoes the
 * same work on every {@code output()} call: dependency tracking, output shape calculation, array allocation through
 * its cache and listener dispatch for every op (measured: about 45 us an op, the whole cost of a toy-sized forward).
 * Here that work is done once per placeholder shape, in a {@link Plan}: the ops the requested outputs need, in
 * order, each with its libnd4j op context holding its input and preallocated output arrays. Running a plan is
 * then one native call per op; ops whose result depends only on constants and on the shapes of the placeholders
 * (shape arithmetic for reshapes, {@code 1 + w} of the norms) are not run again at all.
 *
 * <p>Output arrays are reused: within a plan an array is handed to a later op once its last reader has run, and
 * plans built against the same {@link Arena} share arrays (the caller makes sure those plans never run
 * interleaved: blocks alternate between two arenas). So a plan's results are overwritten by the next run of any
 * plan of its arena: callers copy what they keep. Identity ops (the hook points) pass their input through, as
 * SameDiff does, so a watcher that edits a hook's array in place edits what every downstream op reads.
 * Not thread-safe.
 */
public final class PlannedGraph {

    /** Sees each op's outputs right after the op ran, by variable name (hooks: cache or edit in place). */
    public interface Watcher {
        boolean watches(String variable);

        void onOutput(String variable, INDArray value);
    }

    private final SameDiff sd;
    private final String[] outputs;
    private final String[] placeholders;
    private final Map<String, Integer> ids = new HashMap<>(); // variable name -> index into a plan's value table
    private final List<OpInfo> ops = new ArrayList<>();       // needed ops, in dependency order

    private record OpInfo(SameDiffOp op, int[] in, int[] out, String[] outNames) { }

    public PlannedGraph(SameDiff sd, String... outputs) {
        this.sd = sd;
        this.outputs = outputs.clone();
        List<String> phs = new ArrayList<>();
        for (SDVariable v : sd.variables()) if (v.isPlaceHolder()) phs.add(v.name());
        this.placeholders = phs.toArray(new String[0]);
        for (SameDiffOp op : order(sd, outputs)) {
            int[] in = op.getInputsToOp() == null ? new int[0] : op.getInputsToOp().stream().mapToInt(this::id).toArray();
            int[] out = op.getOutputsOfOp().stream().mapToInt(this::id).toArray();
            ops.add(new OpInfo(op, in, out, op.getOutputsOfOp().toArray(new String[0])));
        }
        for (String o : outputs) {
            if (!ids.containsKey(o)) throw new IllegalArgumentException("graph has no variable " + o);
        }
    }

    private int id(String var) {
        return ids.computeIfAbsent(var, k -> ids.size());
    }

    /** The ops the outputs depend on, each after the ops producing its inputs (depth-first, iterative). */
    private static List<SameDiffOp> order(SameDiff sd, String[] outputs) {
        Map<String, Variable> vars = sd.getVariables();
        List<SameDiffOp> ordered = new ArrayList<>();
        Set<String> done = new HashSet<>(), entered = new HashSet<>();
        ArrayDeque<String> stack = new ArrayDeque<>(); // op names
        for (String out : outputs) {
            Variable v = vars.get(out);
            if (v == null) throw new IllegalArgumentException("graph has no variable " + out);
            if (v.getOutputOfOp() != null) stack.push(v.getOutputOfOp());
            while (!stack.isEmpty()) {
                String name = stack.peek();
                if (done.contains(name)) {
                    stack.pop();
                    continue;
                }
                SameDiffOp op = sd.getOps().get(name);
                if (entered.add(name)) {
                    if (op.getControlDeps() != null && !op.getControlDeps().isEmpty()) {
                        throw new UnsupportedOperationException("op " + name + " has control dependencies; PlannedGraph runs plain data-flow graphs");
                    }
                    if (op.getInputsToOp() != null) {
                        for (String in : op.getInputsToOp()) {
                            String producer = vars.get(in).getOutputOfOp();
                            if (producer != null && !done.contains(producer)) {
                                if (entered.contains(producer)) throw new IllegalStateException("cycle through op " + producer);
                                stack.push(producer);
                            }
                        }
                    }
                } else {
                    stack.pop();
                    done.add(name);
                    ordered.add(op);
                }
            }
        }
        return ordered;
    }

    /** The placeholder shapes a plan is valid for, as a lookup key. */
    public static String signature(Map<String, INDArray> placeholderValues) {
        StringBuilder sb = new StringBuilder();
        placeholderValues.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
                sb.append(e.getKey()).append(e.getValue().dataType()).append(Arrays.toString(e.getValue().shape())).append(';'));
        return sb.toString();
    }

    /**
     * Output buffers shared by plans that never run interleaved. Plans take buffers in the order they first need them;
     * the n-th buffer one plan takes is the n-th another plan of the same structure takes, so identical segments (the
     * blocks) share all their activations, and plans for other input shapes reuse them too (as views of the needed
     * shape): a new sequence length, as greedy decoding makes at every step, allocates nothing unless a buffer must
     * grow (fresh memory costs a zero-fill and page faults: most of planning's time, measured). A buffer that grows
     * is replaced with room for a quarter more; plans made before keep the old one.
     */
    public static final class Arena {
        private final List<INDArray> buffers = new ArrayList<>(); // 1-D
        private long bytes;

        INDArray take(int n, DataType type, long[] shape) {
            long length = 1;
            for (long d : shape) length *= d;
            if (shape.length == 0 || length == 0) return Nd4j.createUninitialized(type, shape); // scalars: not worth sharing
            INDArray buffer = n < buffers.size() ? buffers.get(n) : null;
            if (buffer == null || buffer.dataType() != type || buffer.length() < length) {
                long capacity = buffer == null || buffer.dataType() != type ? length : Math.max(length, buffer.length() + buffer.length() / 4);
                buffer = Nd4j.createUninitialized(type, capacity);
                bytes += capacity * type.width();
                if (n < buffers.size()) buffers.set(n, buffer);
                else buffers.add(buffer);
            }
            return Nd4j.create(buffer.data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', type);
        }

        /** Bytes this arena has allocated so far (buffers replaced since included: plans may still hold them). */
        public long bytes() {
            return bytes;
        }

        /** Its buffers 0 .. n-1 as they are now: what a plan that took n of them uses. */
        INDArray[] current(int n) {
            return buffers.subList(0, n).toArray(new INDArray[0]);
        }

        /** Bytes of those of {@code used} (a plan's {@link #current} at planning) that this arena has since replaced. */
        long replacedBytes(INDArray[] used) {
            long out = 0;
            for (int i = 0; i < used.length; i++) if (buffers.get(i) != used[i]) out += used[i].length() * used[i].dataType().width();
            return out;
        }
    }

    /** One op of a plan, ready to run. */
    private static final class Step {
        final DifferentialFunction fn;
        final OpContext ctx;        // null for identity (pass-through)
        final int[] in, out;
        final String[] outNames;
        final int[] varyingInputs;  // positions in ctx whose array changes from call to call (placeholders)
        boolean smallGemm;          // a matrix product too small to share between BLAS threads
        ColumnSplitGemm split;      // a few-row product with a large weight, run by column blocks (ctx unused)
        LegacyCall legacy;          // a legacy op as one resolved native call (fixed inputs only)

        Step(DifferentialFunction fn, OpContext ctx, int[] in, int[] out, String[] outNames, int[] varyingInputs) {
            this.fn = fn;
            this.ctx = ctx;
            this.in = in;
            this.out = out;
            this.outNames = outNames;
            this.varyingInputs = varyingInputs;
        }
    }

    /** The graph planned for one set of placeholder shapes. */
    public final class Plan {
        private final INDArray[] fixed;   // constants, folded values and the plan's own output arrays
        private final Step[] steps;
        private final int[] placeholderIds;
        private final String[] placeholderNames;
        private final Map<String, INDArray> firstOutputs = new LinkedHashMap<>();
        private final int smallGemms;

        private final Arena arena;
        private final INDArray[] arenaBuffers; // the arena's buffers this plan's arrays are views of

        private Plan(INDArray[] fixed, Step[] steps, String[] placeholderNames, Arena arena, INDArray[] arenaBuffers) {
            this.arena = arena;
            this.arenaBuffers = arenaBuffers;
            this.fixed = fixed;
            this.steps = steps;
            this.placeholderNames = placeholderNames;
            this.placeholderIds = Arrays.stream(placeholderNames).mapToInt(ids::get).toArray();
            this.smallGemms = (int) Arrays.stream(steps).filter(s -> s.smallGemm).count();
        }

        /** libnd4j ops one run executes (folded ops, views and pass-through hooks not counted). */
        public int nativeOps() {
            int n = 0;
            for (Step s : steps) if (s.ctx != null) n++;
            return n;
        }

        /**
         * Memory only plans hold: buffers the arena has replaced by larger ones since this plan was made. Dropping the
         * plan frees them; its buffers that are still the arena's are shared with every later plan and stay.
         */
        public long heldBytes() {
            return arena.replacedBytes(arenaBuffers);
        }

        /** Matrix products this plan runs as {@link ColumnSplitGemm}s. */
        int columnSplitGemms() {
            return (int) Arrays.stream(steps).filter(s -> s.split != null).count();
        }

        /** The requested outputs of the call that made this plan (it ran the graph once). */
        public Map<String, INDArray> firstOutputs() {
            return firstOutputs;
        }

        /**
         * Runs the planned ops on new placeholder values (same shapes as planned); returns the requested outputs,
         * which are the plan's own arrays (valid until a plan of the same arena runs again). May leave OpenBLAS on
         * one thread: call {@link #restoreBlasThreads()} when done with a series of runs.
         */
        public Map<String, INDArray> run(Map<String, INDArray> placeholderValues, Watcher watcher) {
            INDArray[] values = fixed.clone();
            boolean switchThreads = BlasThreads.available() && smallGemms > 0;
            int blasThreads = switchThreads ? BlasThreads.configured() : 1;
            for (int i = 0; i < placeholderIds.length; i++) values[placeholderIds[i]] = placeholderValues.get(placeholderNames[i]);
            for (Step s : steps) {
                if (s.ctx == null) {
                    values[s.out[0]] = values[s.in[0]];
                } else {
                    for (int pos : s.varyingInputs) s.ctx.setInputArray(pos, values[s.in[pos]]);
                    if (switchThreads && (s.smallGemm || s.fn instanceof Mmul)) BlasThreads.use(s.smallGemm ? 1 : blasThreads);
                    if (s.split != null) s.split.run();
                    else if (s.legacy != null) s.legacy.run();
                    else replay(s.fn, s.ctx);
                }
                if (watcher != null) {
                    for (int o = 0; o < s.out.length; o++) {
                        if (watcher.watches(s.outNames[o])) watcher.onOutput(s.outNames[o], values[s.out[o]]);
                    }
                }
            }
            Map<String, INDArray> result = new LinkedHashMap<>();
            for (String o : outputs) result.put(o, values[ids.get(o)]);
            return result;
        }
    }

    private static void execute(DifferentialFunction fn, OpContext ctx) {
        if (fn instanceof CustomOp c) Nd4j.getExecutioner().exec(c, ctx);
        else Nd4j.getExecutioner().exec((Op) fn, ctx);
    }

    private static final NativeOps NATIVE = NativeOpsHolder.getInstance().getDeviceNativeOps();

    /** OpenBLAS back on the thread count ND4J configured, after plans ran small products on one thread. */
    public static void restoreBlasThreads() {
        if (BlasThreads.available()) BlasThreads.restore();
    }

    /**
     * Matrix products below this many FLOPs run on one BLAS thread. Handing a tiny GEMM to OpenBLAS's second
     * thread costs more than it saves: at the toy model's shapes 40% of the forward thread's CPU time was
     * OpenBLAS waiting for its worker in sched_yield (async-profiler), far worse when the cores are busy.
     */
    static final double SMALL_GEMM_FLOPS = 1 << 24;

    /**
     * ...unless an operand is this large: then the product streams memory (one decoding step's [1, 2048] x [2048,
     * 2048] query projection at gemma-2b: 8 MFLOP over a 16 MB weight), and two threads read it twice as fast
     * (OpenBLAS 0.3.21 here, cblas_sgemm M = 1: 2.09 ms on one thread, 1.06 ms on two, quiet machine).
     */
    static final long SMALL_GEMM_OPERAND_BYTES = 4L << 20;

    /**
     * The planned matmul as a {@link ColumnSplitGemm} if it is one that gains (few rows against a constant weight of
     * {@link #SMALL_GEMM_OPERAND_BYTES} or more: decoding's products), else null. Called after the op ran once into
     * {@code out}: the split runs into it again and must agree (else the op stays as it is), so that a wrong pointer
     * can never give wrong numbers, and later runs repeat the planning call's numbers exactly.
     */
    private static ColumnSplitGemm columnSplit(DifferentialFunction fn, OpInfo info, INDArray[] args, INDArray out, boolean[] known, boolean[] varying) {
        if (!(fn instanceof Mmul m) || !BlasThreads.available() || args.length != 2) return null;
        int threads = BlasThreads.configured();
        double[] tArgs = m.tArgs();
        boolean plainScale = tArgs.length == 0 || (tArgs[0] == 1.0 && (tArgs.length < 2 || tArgs[1] == 0.0));
        // the activations must be this plan's own array (a placeholder's changes per call), the weight a constant
        if (transposed(m, 0) || transposed(m, 2) || !plainScale || !known[info.in()[1]] || varying[info.in()[0]] || known[info.in()[0]]) return null;
        if (!ColumnSplitGemm.applies(args[0], args[1], out, threads, SMALL_GEMM_OPERAND_BYTES)) return null;
        INDArray once = out.dup();
        ColumnSplitGemm split = new ColumnSplitGemm(args[0], args[1], transposed(m, 1), out, threads);
        BlasThreads.use(1);
        split.run();
        double scale = Math.max(once.amaxNumber().doubleValue(), Float.MIN_NORMAL);
        if (once.sub(out).amaxNumber().doubleValue() > 1e-5 * scale) {
            out.assign(once);
            return null;
        }
        return split;
    }

    private static long operandBytes(INDArray[] args) {
        long max = 0;
        for (INDArray a : args) max = Math.max(max, a.length() * a.dataType().width());
        return max;
    }

    /** Whether a matmul transposes its first operand (0), its second (1) or its result (2). */
    private static boolean transposed(Mmul m, int which) {
        long[] iArgs = m.iArgs();
        return iArgs.length > which && iArgs[which] != 0;
    }

    /** 2 x (output elements) x (inner dimension) of a planned matmul. */
    private static double gemmFlops(Mmul m, INDArray a, INDArray out) {
        long inner = a.size(transposed(m, 0) ? a.rank() - 2 : a.rank() - 1);
        return 2.0 * out.length() * inner;
    }

    /**
     * A planned op again: custom ops straight to libnd4j (the executioner's Java-side checks, profiling hooks and
     * workspace checks cost as much as a toy-sized op, and the planning call already passed them).
     */
    private static void replay(DifferentialFunction fn, OpContext ctx) {
        if (fn instanceof CustomOp c) {
            int status = NATIVE.execCustomOp2(null, c.opHash(), ctx.contextPointer());
            if (status != 0) throw new IllegalStateException("op " + fn.getOwnName() + " (" + c.opName() + ") failed: " + NATIVE.lastErrorMessage());
        } else {
            Nd4j.getExecutioner().exec((Op) fn, ctx);
        }
    }

    /**
     * Builds the plan for these placeholder values by running the graph once on them (so the call that plans also
     * computes the outputs: run the returned plan only for later calls). Output arrays come from {@code arena}.
     */
    public Plan plan(Map<String, INDArray> placeholderValues, Arena arena, Watcher watcher) {
        int n = ids.size();
        INDArray[] values = new INDArray[n];
        boolean[] known = new boolean[n];    // value fixed for every call of this plan (constants, shape arithmetic)
        boolean[] varying = new boolean[n];  // value is a caller's array that changes per call
        int[] root = new int[n];             // the variable whose array an identity passes through
        for (int i = 0; i < n; i++) root[i] = i;
        String[] names = new String[n];
        ids.forEach((name, i) -> names[i] = name);
        for (int i = 0; i < n; i++) {
            SDVariable v = sd.getVariable(names[i]);
            if (v.getVariableType() == VariableType.CONSTANT || v.getVariableType() == VariableType.VARIABLE) {
                values[i] = v.getArr();
                known[i] = true;
            }
        }
        for (String ph : placeholders) {
            Integer i = ids.get(ph);
            if (i == null) continue; // not needed for these outputs
            INDArray a = placeholderValues.get(ph);
            if (a == null) throw new IllegalArgumentException("no value for placeholder " + ph);
            values[i] = a;
            varying[i] = true;
        }
        // Last reader of every array (by the variable that owns it), to hand arrays on once they are dead.
        int[] lastUse = new int[n];
        Arrays.fill(lastUse, -1);
        for (int s = 0; s < ops.size(); s++) {
            OpInfo info = ops.get(s);
            if (info.op().getOp() instanceof Identity || viewable(info)) root[info.out()[0]] = root[info.in()[0]];
            for (int in : info.in()) lastUse[root[in]] = s;
        }
        for (String o : outputs) lastUse[root[ids.get(o)]] = Integer.MAX_VALUE;

        Map<String, ArrayDeque<INDArray>> free = new HashMap<>();
        int[] taken = {0};
        List<Step> steps = new ArrayList<>();
        for (int s = 0; s < ops.size(); s++) {
            OpInfo info = ops.get(s);
            DifferentialFunction fn = info.op().getOp();
            INDArray[] args = new INDArray[info.in().length];
            boolean allKnown = true;
            List<Integer> varyingPos = new ArrayList<>();
            for (int k = 0; k < args.length; k++) {
                args[k] = values[info.in()[k]];
                if (args[k] == null) throw new IllegalStateException("op " + info.op().getName() + ": input " + names[info.in()[k]] + " has no value");
                allKnown &= known[info.in()[k]];
                if (varying[info.in()[k]]) varyingPos.add(k);
            }
            if (fn instanceof Identity) {
                values[info.out()[0]] = args[0];
                known[info.out()[0]] = known[info.in()[0]];
                varying[info.out()[0]] = varying[info.in()[0]];
                if (!known[info.out()[0]]) steps.add(new Step(fn, null, info.in(), info.out(), info.outNames(), new int[0]));
                notify(watcher, info, values);
                continue;
            }
            if (viewable(info) && !varying[info.in()[0]] && !known[info.in()[0]] && isPlain(args[0])) {
                // reshape of a contiguous array that nothing else reads: a view of it, no op and no copy
                long[] shape = ((DynamicCustomOp) fn).calculateOutputShape(argsContext(fn, args)).get(0).getShape();
                if (Arrays.stream(shape).reduce(1L, (p, q) -> p * q) != args[0].length()) {
                    throw new IllegalStateException("op " + info.op().getName() + ": reshape " + Arrays.toString(args[0].shape()) + " to " + Arrays.toString(shape));
                }
                values[info.out()[0]] = Nd4j.create(args[0].data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', args[0].dataType());
                notify(watcher, info, values);
                // a step only so that watchers see it on later calls (in = out: the view stays as planned)
                steps.add(new Step(fn, null, info.out(), info.out(), info.outNames(), new int[0]));
                continue;
            }
            // Ops reading only fixed values or only shapes give the same result on every call: run them now only.
            boolean fold = allKnown || fn instanceof Shape || fn instanceof Size || fn instanceof Rank;
            OpContext ctx = Nd4j.getExecutioner().buildContext();
            INDArray[] outs = new INDArray[info.out().length];
            if (fn instanceof CustomOp) {
                DynamicCustomOp op = (DynamicCustomOp) fn;
                ctx.setArgs(args, op.iArgs(), op.dArgs(), op.tArgs(), op.bArgs());
                List<LongShapeDescriptor> shapes = op.calculateOutputShape(ctx);
                if (shapes == null || shapes.size() != outs.length) {
                    throw new IllegalStateException("op " + info.op().getName() + " (" + op.opName() + "): shape calculation gave " + shapes);
                }
                for (int o = 0; o < outs.length; o++) {
                    // SameDiff's workaround too: the variable's data type wins over the shape function's guess
                    LongShapeDescriptor d = shapes.get(o).asDataType(sd.getVariable(info.outNames()[o]).dataType());
                    outs[o] = fold ? Nd4j.create(d) : allocate(d, free, arena, taken);
                    ctx.setOutputArray(o, outs[o]);
                }
            } else if (fn instanceof Op op) {
                if (op instanceof ReduceOp && args.length == 2) {
                    if (!known[info.in()[1]]) throw new UnsupportedOperationException("op " + info.op().getName() + ": reduction axes computed per call");
                    fn.setDimensions(org.nd4j.linalg.api.shape.Shape.normalizeAxis(args[0].rank(), args[1].toIntVector()));
                    args = new INDArray[] {args[0]};
                } else if (op instanceof ScalarOp so && args.length == 2) {
                    if (!known[info.in()[1]]) throw new UnsupportedOperationException("op " + info.op().getName() + ": scalar computed per call");
                    so.setScalar(args[1]);
                    args = new INDArray[] {args[0]};
                }
                for (int k = 0; k < args.length; k++) ctx.setInputArray(k, args[k]);
                List<LongShapeDescriptor> shapes = ((BaseOp) op).calculateOutputShape(ctx);
                if (shapes == null || shapes.size() != 1) throw new IllegalStateException("op " + info.op().getName() + ": shape calculation gave " + shapes);
                outs[0] = fold ? Nd4j.create(shapes.get(0)) : allocate(shapes.get(0), free, arena, taken);
                ctx.setOutputArray(0, outs[0]);
            } else {
                throw new UnsupportedOperationException("op " + info.op().getName() + " (" + fn.getClass().getSimpleName() + ") is not supported by PlannedGraph");
            }
            // small products on one thread here too, so that later runs repeat this call's numbers exactly
            boolean smallGemm = fn instanceof Mmul m && gemmFlops(m, args[0], outs[0]) < SMALL_GEMM_FLOPS
                    && operandBytes(args) < SMALL_GEMM_OPERAND_BYTES && BlasThreads.available();
            if (BlasThreads.available() && fn instanceof Mmul) BlasThreads.use(smallGemm ? 1 : BlasThreads.configured());
            execute(fn, ctx);
            ColumnSplitGemm split = fold ? null : columnSplit(fn, info, args, outs[0], known, varying);
            if (split != null) smallGemm = true; // each column block on one BLAS thread
            for (int o = 0; o < outs.length; o++) {
                if (ctx.getOutputArrays().get(o) != outs[o]) {
                    throw new IllegalStateException("op " + info.op().getName() + " replaced its output array; it cannot run planned");
                }
                values[info.out()[o]] = outs[o];
                known[info.out()[o]] = fold;
            }
            if (!fold) { // a folded op's context is left to the garbage collector (it frees the native part)
                Step step = new Step(fn, ctx, info.in(), info.out(), info.outNames(), varyingPos.stream().mapToInt(Integer::intValue).toArray());
                step.smallGemm = smallGemm;
                step.split = split;
                if (fn instanceof Op op && !(fn instanceof CustomOp) && varyingPos.isEmpty()) {
                    step.legacy = LegacyCall.of(op, args[0], args.length > 1 ? args[1] : null, outs[0]);
                }
                steps.add(step);
            }
            notify(watcher, info, values);
            // hand on arrays whose last reader this op was (after allocating its outputs: never an op's own input)
            for (int in : info.in()) {
                int r = root[in];
                if (lastUse[r] == s && !known[r] && !varying[r]) {
                    lastUse[r] = -1;
                    free.computeIfAbsent(key(values[r]), k -> new ArrayDeque<>()).push(values[r]);
                }
            }
            for (int o = 0; o < outs.length; o++) {
                int r = info.out()[o];
                if (lastUse[r] == -1 && !fold) free.computeIfAbsent(key(outs[o]), k -> new ArrayDeque<>()).push(outs[o]); // unused output
            }
        }
        INDArray[] fixed = new INDArray[n];
        for (int i = 0; i < n; i++) if (!varying[i]) fixed[i] = values[i];
        List<String> usedPlaceholders = new ArrayList<>();
        for (String ph : placeholders) if (ids.containsKey(ph)) usedPlaceholders.add(ph);
        Plan plan = new Plan(fixed, steps.toArray(new Step[0]), usedPlaceholders.toArray(new String[0]), arena, arena.current(taken[0]));
        for (String o : outputs) plan.firstOutputs.put(o, values[ids.get(o)]);
        return plan;
    }

    /** A reshape whose input has no other reader: it can be a view of that input (planned once, never run). */
    private boolean viewable(OpInfo info) {
        if (!(info.op().getOp() instanceof Reshape) || info.in().length == 0) return false;
        List<String> readers = sd.getVariables().get(info.op().getInputsToOp().get(0)).getInputsForOp();
        return readers != null && readers.size() == 1;
    }

    private static boolean isPlain(INDArray a) {
        return a.ordering() == 'c' && a.offset() == 0 && Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), 'c'));
    }

    private static OpContext argsContext(DifferentialFunction fn, INDArray[] args) {
        DynamicCustomOp op = (DynamicCustomOp) fn;
        OpContext ctx = Nd4j.getExecutioner().buildContext();
        ctx.setArgs(args, op.iArgs(), op.dArgs(), op.tArgs(), op.bArgs());
        return ctx;
    }

    private static void notify(Watcher watcher, OpInfo info, INDArray[] values) {
        if (watcher == null) return;
        for (int o = 0; o < info.out().length; o++) {
            if (watcher.watches(info.outNames()[o])) watcher.onOutput(info.outNames()[o], values[info.out()[o]]);
        }
    }

    private static String key(INDArray a) {
        return a.dataType() + Arrays.toString(a.shape());
    }

    /** A dead array of this shape if there is one, else the arena's next one ({@code taken[0]} counts those). */
    private static INDArray allocate(LongShapeDescriptor d, Map<String, ArrayDeque<INDArray>> free, Arena arena, int[] taken) {
        ArrayDeque<INDArray> q = free.get(d.dataType() + Arrays.toString(d.getShape()));
        if (q != null && !q.isEmpty()) return q.pop();
        if (d.isEmpty()) return Nd4j.create(d);
        return arena.take(taken[0]++, d.dataType(), d.getShape());
    }
}
