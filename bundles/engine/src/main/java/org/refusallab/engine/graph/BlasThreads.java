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

    static void set(int threads) {
        SETTER.call(threads);
    }

    /** The current count (a plain getter: ND4J's does no lookups). */
    static int get() {
        return Nd4j.factory().blas().getMaxThreads();
    }
}
