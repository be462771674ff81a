import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.refusallab.checkpoint.CheckpointWriter;
import org.refusallab.checkpoint.GemmaConfig;
import org.refusallab.checkpoint.StoredDtype;
import org.refusallab.engine.train.GemmaTrainer;

/**
 * A small random checkpoint (bf16) written by the engine's checkpoint writer, for bench/check_in_transformers.py.
 * gemma2: 4 layers alternating sliding (window 4) and full attention, 8 query heads on 2 key/value heads, both
 * soft-caps. gemma: the same sizes as Gemma 1 (1 key/value head). The toy model's vocabulary size: copy
 * models/toy-gemma's tokenizer files beside it for the chat template. A shard size (bytes) > 0 writes shards and
 * model.safetensors.index.json.
 *   java -cp "$(ls bundles/launcher/target/lib/*.jar | tr '\n' :)" bench/WriteRandomCheckpoint.java OUT_DIR [gemma2|gemma] [SHARD_BYTES]
 */
public class WriteRandomCheckpoint {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        boolean gemma2 = args.length < 2 || args[1].equals("gemma2");
        long shardBytes = args.length < 3 ? 0 : Long.parseLong(args[2]);
        GemmaConfig cfg = gemma2
                ? new GemmaConfig("gemma2", 1692, 64, 256, 4, 8, 2, 16, 1e-6, 10000.0, GemmaConfig.Gelu.TANH, "bfloat16", 2, 1, 0, 128,
                        new GemmaConfig.Gemma2(4, List.of(true, false, true, false), 16.0, 50.0, 30.0))
                : new GemmaConfig("gemma", 1692, 64, 256, 4, 8, 1, 16, 1e-6, 10000.0, GemmaConfig.Gelu.TANH, "bfloat16", 2, 1, 0, 128);
        Map<String, INDArray> w = new LinkedHashMap<>(GemmaTrainer.initialWeights(cfg, 7));
        // 8x the training init, so that logits are far from uniform (and Gemma 2's soft-caps bend them); norms off zero
        w.replaceAll((name, x) -> x.rank() == 2 ? x.mul(8) : x.add(0.3));
        CheckpointWriter.write(dir, cfg, w, StoredDtype.BF16, shardBytes);
        System.out.println("wrote " + dir);
    }
}
