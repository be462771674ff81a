package org.refusallab.checkpoint;

import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A loaded checkpoint: float32 weights keyed by their Hugging Face names, shaped as stored ([out, in] for linear
 * layers; see {@link GemmaTensors}). {@code storedDtype} is what the files held ("BF16", or e.g. "BF16+F32" when
 * mixed), before conversion to float32.
 */
public record LoadedCheckpoint(GemmaConfig config, Map<String, INDArray> weights, Path dir, String storedDtype) {

    /** The weight with this name; fails naming the checkpoint if there is none. */
    public INDArray weight(String name) {
        INDArray w = weights.get(name);
        if (w == null) {
            throw new CheckpointException(dir + ": no tensor " + name + " in the loaded checkpoint");
        }
        return w;
    }
}
