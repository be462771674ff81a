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
     * The final norm's weight w as stored in the checkpoint, {@code [d_model]}; Gemma multiplies by (1 + w), so
     * logits = x / {@code ln_final.hook_scale} * (1 + w) . W_U.
     */
    float[] finalNormWeight();
}
