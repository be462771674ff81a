package org.refusallab.checkpoint;

/**
 * The shapes and constants of a Gemma 1 checkpoint, read from Hugging Face's config.json.
 * {@code headDim} is independent of {@code hiddenSize} (gemma-2b: 2048 = 8 x 256 by coincidence; gemma-7b: 3072 vs 16 x 256).
 */
public record GemmaConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                          int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
                          Gelu gelu, String torchDtype, int bosTokenId, int eosTokenId, int padTokenId,
                          int maxPositionEmbeddings) {

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
                headDim, rmsNormEps, ropeTheta, g, torchDtype, bosTokenId, eosTokenId, padTokenId, maxPositionEmbeddings);
    }

    public GemmaConfig withTorchDtype(String dtype) {
        return new GemmaConfig(modelType, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, ropeTheta, gelu, dtype, bosTokenId, eosTokenId, padTokenId, maxPositionEmbeddings);
    }

    /** gemma-2b's shapes (google/gemma-2b-it), for benchmarks with random weights. */
    public static GemmaConfig gemma2b() {
        return new GemmaConfig("gemma", 256000, 2048, 16384, 18, 8, 1, 256, 1e-6, 10000.0, Gelu.TANH, "bfloat16", 2, 1, 0, 8192);
    }

    public long parameterCount() {
        long d = hiddenSize;
        long perLayer = 2 * d + d * (long) numHeads * headDim * 2 + 2 * d * (long) numKvHeads * headDim + 3 * d * intermediateSize;
        return (long) vocabSize * d + numLayers * perLayer + d;
    }
}
