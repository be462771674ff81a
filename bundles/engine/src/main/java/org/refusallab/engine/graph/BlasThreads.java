package org.refusallab.engine.graph;

import java.lang.reflect.Constructor;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.presets.openblas_nolapack;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sets OpenBLAS's thread count cheaply enough to do it per matrix product. ND4J's {@code Blas.setMaxThreads} goes
 * through JavaCPP's {@code blas_set_num_threads}, which loads the library and looks up four symbols on every call
 * (about 0.2 ms, measured: more than a toy-sized forward's GEMMs); here {@code openblas_set_num_threads} is looked
 * up once. If it cannot be (not OpenBLAS), {@link #available()} is false and nothing is switched.
 */
final class BlasThreads {

    private static final openblas_nolapack.SetNumThreads SETTER = setter();

    private BlasThreads() { }

    private static openblas_nolapack.SetNumThreads setter() {
        try {
            Nd4j.factory().blas(); // ND4J has loaded its OpenBLAS by now
            Pointer address = Loader.addressof("openblas_set_num_threads");
            if (address == null || address.isNull()) return null;
            Constructor<openblas_nolapack.SetNumThreads> c = openblas_nolapack.SetNumThreads.class.getDeclaredConstructor();
            c.setAccessible(true);
            return c.newInstance().put(address);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    static boolean available() {
        return SETTER != null;
    }

    /** What this class last gave OpenBLAS, or -1: the count ND4J configured (nothing switched since the last restore). */
    private static int switched = -1;

    /**
     * OpenBLAS on {@code threads} threads until {@link #restore}. Switching is cheap but not free (going back to
     * several threads may re-pin the calling thread's CPU affinity), so a forward switches only when the count changes
     * and restores once at its end: restoring after every segment doubled a toy forward's median time (measured).
     */
    static void use(int threads) {
        int now = switched < 0 ? configured() : switched;
        if (threads != now) {
            SETTER.call(threads);
            switched = threads;
        }
    }

    /** Back to the count ND4J configured, if this class changed it. */
    static void restore() {
        if (switched >= 0 && switched != configured()) SETTER.call(configured());
        switched = -1;
    }

    /** The count set through ND4J (JavaCPP keeps it in a field: no lookups). */
    static int configured() {
        return Nd4j.factory().blas().getMaxThreads();
    }
}
