package org.refusallab.platform;

import java.time.Duration;
import org.refusallab.api.model.ModelInfo;

/**
 * The default time limit of one analysis, fitted to the model: 5 minutes plus 1.5 s per million parameters. That is
 * 5 min for toy-gemma (0.43 M parameters; its slowest analysis, generations, took 58 s on 2 cores shared with a
 * load of 10, a few seconds otherwise) and 68 min for gemma-2b (2.5 G parameters), where a patching sweep on a CPU
 * takes tens of minutes. {@code --timeout},
 * {@code refusallab.analysis.timeoutSeconds} in framework.properties or the parameter {@code timeoutSeconds} override it.
 */
public final class TimeLimits {

    static final Duration BASE = Duration.ofMinutes(5);
    static final double SECONDS_PER_MILLION_PARAMETERS = 1.5;

    private TimeLimits() { }

    public static Duration defaultFor(ModelInfo m) {
        return BASE.plusMillis(Math.round(parameters(m) / 1e6 * SECONDS_PER_MILLION_PARAMETERS * 1000));
    }

    /** Gemma's parameter count from its shapes: tied embedding, per block q/k/v/o, the GeGLU MLP and two norms, final norm. */
    public static long parameters(ModelInfo m) {
        long d = m.dModel();
        long attention = d * m.nHeads() * m.dHead() * 2 + 2 * d * m.nKvHeads() * m.dHead();
        long mlp = 3 * d * m.dMlp();
        return (long) m.vocabSize() * d + m.nLayers() * (attention + mlp + 2 * d) + d;
    }
}
