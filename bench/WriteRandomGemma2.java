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
 * A small random Gemma 2 checkpoint (bf16) written by the engine's checkpoint writer, for bench/check_in_transformers.py:
 * 4 layers alternating sliding (window 4) and full attention, 8 query heads on 2 key/value heads, both soft-caps, the
 * toy model's vocabulary size (copy models/toy-gemma's tokenizer files beside it for the chat template).
 *   java -cp "$(ls bundles/launcher/target/lib/*.jar | tr '\n' :)" bench/WriteRandomGemma2.java OUT_DIR
 */
public class WriteRandomGemma2 {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        GemmaConfig cfg = new GemmaConfig("gemma2", 1692, 64, 256, 4, 8, 2, 16, 1e-6, 10000.0, GemmaConfig.Gelu.TANH,
                "bfloat16", 2, 1, 0, 128, new GemmaConfig.Gemma2(4, List.of(true, false, true, false), 16.0, 50.0, 30.0));
        Map<String, INDArray> w = new LinkedHashMap<>(GemmaTrainer.initialWeights(cfg, 7));
        // 8x the training init, so that logits are far from uniform and the soft-caps bend them; norms off zero
        w.replaceAll((name, x) -> x.rank() == 2 ? x.mul(8) : x.add(0.3));
        CheckpointWriter.write(dir, cfg, w, StoredDtype.BF16, 0);
        System.out.println("wrote " + dir);
    }
}
