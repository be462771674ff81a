package org.refusallab.api.model;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A loaded Gemma model with TransformerLens hook points, registered once per process as an OSGi service and
 * shared by every analysis. {@link Hooks} builds hook names and documents what each one holds.
 */
@ProviderType
public interface HookedModel {

    ModelInfo info();

    TextTokenizer tokenizer();

    ForwardResult run(ForwardRequest request);

    /** Greedy completions (new tokens only, stopping at end_of_turn / eos or the limit), one per prompt. */
    List<int[]> generate(GenerationRequest request);

    /** Every hook name of this model in forward order (the catalogue of {@link Hooks#names}). */
    default List<String> hookNames() {
        return Hooks.names(info().nLayers());
    }

    /** W_U, the unembedding {@code [d_model, vocab]} (Gemma ties it to the embedding: W_E transposed). */
    Tensor unembedMatrix();

    /** W_E, the token embedding {@code [vocab, d_model]}, before Gemma's sqrt(d_model) scaling ({@code hook_embed} is after it). */
    Tensor embedMatrix();

    /** W_O of one layer per head, {@code [n_heads, d_head, d_model]}: {@code attn.hook_result[h] = hook_z[h] . W_O[h]}. */
    Tensor attnOutMatrix(int layer);

    /**
     * W_V of one layer per key-value head, {@code [n_kv_heads, d_model, d_head]}: {@code attn.hook_v[kv] = ln1(x) . W_V[kv]}
     * (ln1's output, with Gemma's (1 + w)); query head h reads kv head {@code h / (n_heads / n_kv_heads)}. So a head's
     * OV circuit is {@code W_V[kv] . W_O[h]}. A model that cannot give it throws UnsupportedOperationException.
     *
     * @since 2.1
     */
    default Tensor attnValueMatrix(int layer) {
        throw new UnsupportedOperationException(getClass().getName() + " does not give W_V");
    }

    /**
     * Where this model departs from Gemma 1's linear residual read-out (soft-caps, post-norms). The default knows
     * Gemma 1 only and throws for any other {@code model_type}: a model that is not Gemma 1 must say what it is.
     *
     * @since 2.2
     */
    default Architecture architecture() {
        if ("gemma".equals(info().modelType())) return Architecture.GEMMA;
        throw new UnsupportedOperationException(getClass().getName() + " does not say its architecture (model_type " + info().modelType() + ")");
    }

    /**
     * The post-attention norm's weight w of one layer as stored, {@code [d_model]}, on a model with post-norms
     * ({@link Architecture#postNorms()}): {@code hook_attn_out = sum_h attn.hook_result[h] / ln1_post.hook_scale * (1 + w)}.
     * A model without post-norms throws UnsupportedOperationException.
     *
     * @since 2.2
     */
    default float[] postAttentionNormWeight(int layer) {
        throw new UnsupportedOperationException(getClass().getName() + " has no post-attention norm (model_type " + info().modelType() + ")");
    }

    /**
     * The final norm's weight w as stored in the checkpoint, {@code [d_model]}; Gemma multiplies by (1 + w), so
     * logits = x / {@code ln_final.hook_scale} * (1 + w) . W_U.
     */
    float[] finalNormWeight();
}
