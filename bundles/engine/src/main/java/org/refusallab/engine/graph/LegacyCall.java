package org.refusallab.engine.graph;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.TransformOp;
import org.nd4j.linalg.cpu.nativecpu.buffer.BaseCpuDataBuffer;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.nd4j.nativeblas.OpaqueDataBuffer;

/**
 * A planned legacy (non-custom) libnd4j op as one native call with its buffers and shapes resolved once. The
 * executioner's route for these ops rebuilds the same pointers on every call and, for reductions, computes
 * tensor-along-dimension shapes it then only uses for profiling: about as much time as the toy model's ops take
 * (async-profiler). The native calls and their arguments are the ones {@code NativeOpExecutioner} makes.
 */
final class LegacyCall {

    private static final NativeOps NATIVE = NativeOpsHolder.getInstance().getDeviceNativeOps();
    private static final PointerPointer EXTRA = new PointerPointer(32); // the executioner's scratch, unused by these ops

    private enum Kind { SCALAR, TRANSFORM_FLOAT, TRANSFORM_STRICT, TRANSFORM_SAME, REDUCE_FLOAT }

    private final Kind kind;
    private final int opNum;
    private final INDArray[] keep; // the arrays whose buffers the pointers below point into
    private final OpaqueDataBuffer x, z, third;
    private final LongPointer xShape, zShape, thirdShape;
    private final Pointer extraArgs;
    private final org.nd4j.linalg.api.buffer.DataBuffer extraArgsBuffer; // held: extraArgs points into it

    private LegacyCall(Kind kind, Op op, INDArray x, INDArray z, INDArray third) {
        this.kind = kind;
        this.opNum = op.opNum();
        this.keep = new INDArray[] {x, z, third};
        this.x = buffer(x);
        this.z = buffer(z);
        this.third = third == null ? null : buffer(third);
        this.xShape = (LongPointer) x.shapeInfoDataBuffer().addressPointer();
        this.zShape = (LongPointer) z.shapeInfoDataBuffer().addressPointer();
        this.thirdShape = third == null ? null : (LongPointer) third.shapeInfoDataBuffer().addressPointer();
        this.extraArgsBuffer = op.extraArgs() == null ? null : op.extraArgsDataBuff(z.dataType());
        this.extraArgs = extraArgsBuffer == null ? null : extraArgsBuffer.addressPointer();
    }

    private static OpaqueDataBuffer buffer(INDArray a) {
        return ((BaseCpuDataBuffer) a.data()).getOpaqueDataBuffer();
    }

    /** The direct call for this op on these arrays, or null where only the executioner's route is known to be right. */
    static LegacyCall of(Op op, INDArray x, INDArray y, INDArray z) {
        if (x.isEmpty() || z.isEmpty() || !(x.data() instanceof BaseCpuDataBuffer) || !(z.data() instanceof BaseCpuDataBuffer)) return null;
        if (op instanceof ScalarOp s && ((org.nd4j.autodiff.functions.DifferentialFunction) op).opType() == Op.Type.SCALAR && s.dimensions() == null && s.scalar() != null && y == null) {
            return new LegacyCall(Kind.SCALAR, op, x, z, s.scalar());
        }
        if (op instanceof TransformOp && y == null && op.opNum() != 31 && !op.opName().equalsIgnoreCase("ismax")) {
            return switch (((org.nd4j.autodiff.functions.DifferentialFunction) op).opType()) {
                case TRANSFORM_FLOAT -> new LegacyCall(Kind.TRANSFORM_FLOAT, op, x, z, null);
                case TRANSFORM_STRICT -> new LegacyCall(Kind.TRANSFORM_STRICT, op, x, z, null);
                case TRANSFORM_SAME -> new LegacyCall(Kind.TRANSFORM_SAME, op, x, z, null);
                default -> null;
            };
        }
        if (op instanceof ReduceOp r && ((org.nd4j.autodiff.functions.DifferentialFunction) op).opType() == Op.Type.REDUCE_FLOAT && y == null && !z.isScalar() && r.dimensions() != null
                && !r.isComplexAccumulation()) {
            return new LegacyCall(Kind.REDUCE_FLOAT, op, x, z, r.dimensions());
        }
        return null;
    }

    void run() {
        switch (kind) {
            case SCALAR -> NATIVE.execScalar(null, opNum, x, xShape, null, z, zShape, null, third, thirdShape, null, extraArgs);
            case TRANSFORM_FLOAT -> NATIVE.execTransformFloat(EXTRA, opNum, x, xShape, null, z, zShape, null, extraArgs);
            case TRANSFORM_STRICT -> NATIVE.execTransformStrict(EXTRA, opNum, x, xShape, null, z, zShape, null, extraArgs);
            case TRANSFORM_SAME -> NATIVE.execTransformSame(EXTRA, opNum, x, xShape, null, z, zShape, null, extraArgs);
            case REDUCE_FLOAT -> NATIVE.execReduceFloat2(null, opNum, x, xShape, null, extraArgs, z, zShape, null, third, thirdShape, null);
        }
        if (NATIVE.lastErrorCode() != 0) throw new IllegalStateException("legacy op " + opNum + " (" + kind + ") failed: " + NATIVE.lastErrorMessage());
    }
}
