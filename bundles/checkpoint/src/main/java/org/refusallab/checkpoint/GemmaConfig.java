package org.refusallab.checkpoint;

import java.util.List;

/**
 * The shapes and constants of a Gemma 1 or Gemma 2 checkpoint, read from Hugging Face's config.json.
 * {@code headDim} is independent of {@code hiddenSize} (gemma-2b: 2048 = 8 x 256 by coincidence; gemma-7b: 3072 vs 16 x 256).
 *
 * @param gemma2 what Gemma 2 ({@code model_type: gemma2}) adds, or null for Gemma 1
 */
public record GemmaConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                          int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
                          Gelu gelu, String torchDtype, int bosTokenId, int eosTokenId, int padTokenId,
                          int maxPositionEmbeddings, Gemma2 gemma2) {

    public static final String GEMMA1_MODEL_TYPE = "gemma", GEMMA2_MODEL_TYPE = "gemma2";

    /** A Gemma 1 config. */
    public GemmaConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
                       Gelu gelu, String torchDtype, int bosTokenId, int eosTokenId, int padTokenId,
                       int maxPositionEmbeddings) {
        this(modelType, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, rmsNormEps,
                ropeTheta, gelu, torchDtype, bosTokenId, eosTokenId, padTokenId, maxPositionEmbeddings, null);
    }

    public GemmaConfig {
        if (gemma2 != null && gemma2.slidingLayers().size() != numLayers) {
            throw new IllegalArgumentException("Gemma 2 layer types for " + gemma2.slidingLayers().size()
                    + " layers, but the model has " + numLayers);
        }
    }

    /**
     * What Gemma 2 changes in the forward pass. Each block has four norms (input, post-attention, pre- and
     * post-feed-forward); a local layer's query sees only the {@code slidingWindow} keys ending at itself.
     *
     * @param slidingWindow      keys a local layer's query attends: its own and the slidingWindow - 1 before it
     * @param slidingLayers      per layer, whether it is local (sliding-window) attention; false: full attention
     * @param queryPreAttnScalar attention scores are scaled by queryPreAttnScalar^-0.5 (Gemma 1: head_dim^-0.5)
     * @param attnLogitSoftcap   scores become tanh(s / cap) * cap before the mask; 0 for none
     * @param finalLogitSoftcap  logits become tanh(l / cap) * cap; 0 for none
     */
    public record Gemma2(int slidingWindow, List<Boolean> slidingLayers, double queryPreAttnScalar,
                         double attnLogitSoftcap, double finalLogitSoftcap) {

        public Gemma2 {
            slidingLayers = List.copyOf(slidingLayers);
        }

        /** transformers' rule for configs without {@code layer_types}: even layers are local, odd layers global. */
        public static List<Boolean> alternatingLayers(int numLayers) {
            Boolean[] sliding = new Boolean[numLayers];
            for (int i = 0; i < numLayers; i++) sliding[i] = i % 2 == 0;
            return List.of(sliding);
        }
    }

    public boolean isGemma2() {
        return gemma2 != null;
    }

    /** Whether layer {@code layer} attends within a sliding window (only Gemma 2 has such layers). */
    public boolean isSlidingLayer(int layer) {
        return gemma2 != null && gemma2.slidingLayers().get(layer);
    }

    /** The factor attention scores are multiplied by: query_pre_attn_scalar^-0.5 (Gemma 2) or head_dim^-0.5. */
    public double attentionScale() {
        return 1.0 / Math.sqrt(gemma2 != null ? gemma2.queryPreAttnScalar() : headDim);
    }

    /** Which GELU the MLP runs: the erf form, or the tanh approximation gemma-2b-it was trained with. */
    public enum Gelu {
        EXACT, TANH;

        public static Gelu parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "exact", "erf", "gelu_exact" -> EXACT;
                case "tanh", "gelu_pytorch_tanh", "gelu_tanh", "gelu_new" -> TANH;
                default -> throw new IllegalArgumentException("unknown GELU variant '" + s + "' (use exact or tanh)");
            };
        }
    }

    public GemmaConfig withGelu(Gelu g) {
        return new GemmaConfig(modelType, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, ropeTheta, g, torchDtype, bosTokenId, eosTokenId, padTokenId, maxPositionEmbeddings, gemma2);
    }

    public GemmaConfig withTorchDtype(String dtype) {
        return new GemmaConfig(modelType, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, ropeTheta, gelu, dtype, bosTokenId, eosTokenId, padTokenId, maxPositionEmbeddings, gemma2);
    }

    /** gemma-2b's shapes (google/gemma-2b-it), for benchmarks with random weights. */
    public static GemmaConfig gemma2b() {
        return new GemmaConfig("gemma", 256000, 2048, 16384, 18, 8, 1, 256, 1e-6, 10000.0, Gelu.TANH, "bfloat16", 2, 1, 0, 8192);
    }

    /** gemma-2-2b's shapes (google/gemma-2-2b-it's config.json): 26 layers, local layers 0, 2, 4, ... */
    public static GemmaConfig gemma2_2b() {
        return new GemmaConfig(GEMMA2_MODEL_TYPE, 256000, 2304, 9216, 26, 8, 4, 256, 1e-6, 10000.0, Gelu.TANH, "float32",
                2, 1, 0, 8192, new Gemma2(4096, Gemma2.alternatingLayers(26), 256, 50.0, 30.0));
    }

    public long parameterCount() {
        long d = hiddenSize;
        long perLayer = (isGemma2() ? 4 : 2) * d + d * (long) numHeads * headDim * 2 + 2 * d * (long) numKvHeads * headDim + 3 * d * intermediateSize;
        return (long) vocabSize * d + numLayers * perLayer + d;
    }
}
