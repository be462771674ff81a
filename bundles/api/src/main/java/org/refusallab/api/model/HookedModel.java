package org.refusallab.api.model;

import java.util.List;

/**
 * A loaded Gemma model with TransformerLens hook points, registered once per process as an OSGi service and
 * shared by every analysis. Hook names: {@code hook_embed}; per block {@code blocks.L.hook_resid_pre},
 * {@code ln1.hook_scale}, {@code attn.hook_q/k/v}, {@code attn.hook_attn_scores}, {@code attn.hook_pattern},
 * {@code attn.hook_z}, {@code attn.hook_result}, {@code hook_attn_out}, {@code hook_resid_mid},
 * {@code ln2.hook_scale}, {@code mlp.hook_pre}, {@code mlp.hook_post}, {@code hook_mlp_out},
 * {@code hook_resid_post}; then {@code ln_final.hook_scale}, {@code ln_final.hook_normalized}, {@code logits}.
 */
public interface HookedModel {

    ModelInfo info();

    TextTokenizer tokenizer();

    ForwardResult run(ForwardRequest request);

    /** Greedy completions (new tokens only, stopping at end_of_turn / eos or the limit), one per prompt. */
    List<int[]> generate(GenerationRequest request);

    /** Unembedding rows (tied embedding rows) of the given token ids: {@code [ids, d_model]}. */
    Tensor unembeddingRows(int[] tokenIds);

    /** Mean of the unembedding rows over the whole vocabulary except the given ids: {@code [d_model]}. */
    float[] unembeddingMeanExcept(int[] tokenIds);

    /** Cosine similarity of a direction with every unembedding row: {@code [vocab]}. */
    float[] unembeddingCosines(float[] direction);

    /** Singular values of the unembedding matrix, descending, and its right singular vectors {@code [d_model, d_model]} (columns). */
    Tensor unembeddingSingularValues();

    Tensor unembeddingRightSingularVectors();
}
