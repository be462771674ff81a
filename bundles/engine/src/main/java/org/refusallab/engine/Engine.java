package org.refusallab.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.common.config.ND4JClassLoading;
import org.nd4j.linalg.factory.Nd4j;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.checkpoint.Checkpoint;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.LoadedCheckpoint;
import org.refusallab.tokenizer.HfTokenizer;

/** Loads a Hugging Face Gemma checkpoint folder into a {@link GemmaModel}. */
public final class Engine {

    private Engine() { }

    /**
     * ND4J captures its backend class loader once, from the thread context class loader; inside an OSGi bundle that
     * loader cannot see the backend. Pin it to ND4J's own loader before the first ND4J use.
     */
    public static void pinNd4jClassLoader() {
        ND4JClassLoading.setNd4jClassloaderFromClass(Nd4j.class);
    }

    /** Environment variable: how many threads the matrix products use; default every core. */
    public static final String BLAS_THREADS_ENV = "REFUSAL_LAB_BLAS_THREADS";

    /**
     * Matrix products on every core (or {@value #BLAS_THREADS_ENV}), while element-wise ops keep ND4J's OpenMP
     * thread count (OMP_NUM_THREADS; ./refusal-lab sets 1). ND4J ties OpenBLAS to the OpenMP count at start-up; with
     * both pools at 2 threads on 2 cores, an idle OpenMP worker spinning after each element-wise op slowed the
     * next matrix product: a gemma-2b-shaped block took 10-15% longer than with one OpenMP thread and 2 BLAS
     * threads (measured, B=6, S=24). Returns the BLAS thread count now in force.
     */
    public static int configureMatmulThreads() {
        Nd4j.factory().blas().setMaxThreads(matmulThreads(System.getenv(BLAS_THREADS_ENV), Runtime.getRuntime().availableProcessors()));
        return Nd4j.factory().blas().getMaxThreads();
    }

    /** The value of {@value #BLAS_THREADS_ENV} (null or blank: {@code cores}) as a thread count. */
    static int matmulThreads(String env, int cores) {
        if (env == null || env.isBlank()) return cores;
        try {
            int threads = Integer.parseInt(env.trim());
            if (threads >= 1) return threads;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(BLAS_THREADS_ENV + " must be a positive integer, got '" + env + "'");
    }

    /**
     * @param geluOverride "exact" or "tanh" to override what config.json implies, or null
     */
    public static GemmaModel load(Path modelDir, String geluOverride) {
        pinNd4jClassLoader();
        configureMatmulThreads();
        GemmaConfig.Gelu gelu = geluOverride == null ? null : GemmaConfig.Gelu.parse(geluOverride);
        LoadedCheckpoint ckpt = Checkpoint.load(modelDir, gelu);
        TextTokenizer tokenizer = Files.exists(modelDir.resolve("tokenizer.json")) ? HfTokenizer.load(modelDir) : null;
        return new GemmaModel(ckpt, tokenizer);
    }
}
