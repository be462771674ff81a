package org.refusallab.api.model;

import java.util.ArrayList;
import java.util.List;

/**
 * TransformerLens hook names, built instead of concatenated (the spirit of {@code utils.get_act_name}), and the
 * catalogue of every hook of a Gemma model with what it holds. Shapes are batch first; {@code pos} is the padded
 * position axis.
 *
 * <table>
 * <caption>What each hook holds</caption>
 * <tr><th>hook</th><th>shape</th><th>holds</th></tr>
 * <tr><td>{@code hook_embed}</td><td>[batch, pos, d_model]</td><td>token embedding already scaled by sqrt(d_model) (Gemma)</td></tr>
 * <tr><td>{@code blocks.L.hook_resid_pre}</td><td>[batch, pos, d_model]</td><td>residual stream entering block L</td></tr>
 * <tr><td>{@code blocks.L.ln1.hook_scale}</td><td>[batch, pos, 1]</td><td>sqrt(mean(x^2) + eps) of the attention norm's input</td></tr>
 * <tr><td>{@code blocks.L.attn.hook_q / hook_k / hook_v}</td><td>[batch, pos, head, d_head]</td><td>before the rotary embedding; k and v have n_kv_heads heads</td></tr>
 * <tr><td>{@code blocks.L.attn.hook_attn_scores}</td><td>[batch, head, query, key]</td><td>scaled scores, -1e9 at masked keys</td></tr>
 * <tr><td>{@code blocks.L.attn.hook_pattern}</td><td>[batch, head, query, key]</td><td>softmax of the scores</td></tr>
 * <tr><td>{@code blocks.L.attn.hook_z}</td><td>[batch, pos, head, d_head]</td><td>pattern-weighted values per head</td></tr>
 * <tr><td>{@code blocks.L.attn.hook_result}</td><td>[batch, pos, head, d_model]</td><td>per-head output z_h W_O[h]; sums to hook_attn_out</td></tr>
 * <tr><td>{@code blocks.L.hook_attn_out}</td><td>[batch, pos, d_model]</td><td>attention output added to the residual</td></tr>
 * <tr><td>{@code blocks.L.hook_resid_mid}</td><td>[batch, pos, d_model]</td><td>resid_pre + attn_out</td></tr>
 * <tr><td>{@code blocks.L.ln2.hook_scale}</td><td>[batch, pos, 1]</td><td>the MLP norm's scale</td></tr>
 * <tr><td>{@code blocks.L.mlp.hook_pre / hook_post}</td><td>[batch, pos, d_mlp]</td><td>gate pre-activation / GELU(gate) * up</td></tr>
 * <tr><td>{@code blocks.L.hook_mlp_out}</td><td>[batch, pos, d_model]</td><td>MLP output added to the residual</td></tr>
 * <tr><td>{@code blocks.L.hook_resid_post}</td><td>[batch, pos, d_model]</td><td>resid_mid + mlp_out</td></tr>
 * <tr><td>{@code ln_final.hook_scale}</td><td>[batch, pos, 1]</td><td>the final norm's scale</td></tr>
 * <tr><td>{@code ln_final.hook_normalized}</td><td>[batch, pos, d_model]</td><td><b>x / scale * (1 + w)</b>: unlike TransformerLens
 *     (x / scale, the weight folded into W_U), this includes Gemma's (1 + w) weight, so logits = normalized . W_U exactly</td></tr>
 * <tr><td>{@code logits}</td><td>[batch, pos, vocab]</td><td>the unembedding</td></tr>
 * </table>
 */
public final class Hooks {

    private Hooks() { }

    /** The hooks of one block, in forward order (relative names, {@code blocks.L.} left off). */
    public static final List<String> BLOCK_HOOKS = List.of(
            "hook_resid_pre", "ln1.hook_scale", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores",
            "attn.hook_pattern", "attn.hook_z", "attn.hook_result", "hook_attn_out", "hook_resid_mid", "ln2.hook_scale",
            "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post");

    public static final String EMBED = "hook_embed";
    public static final String LN_FINAL_SCALE = "ln_final.hook_scale";
    /** x / scale * (1 + w): Gemma's weight included, unlike TransformerLens (see the class comment). */
    public static final String LN_FINAL_NORMALIZED = "ln_final.hook_normalized";
    public static final String LOGITS = "logits";

    /** {@code blocks.L.<hook>} for a block-relative name such as {@code hook_resid_pre} or {@code attn.hook_z}. */
    public static String block(int layer, String hook) {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        if (!BLOCK_HOOKS.contains(hook)) throw new IllegalArgumentException("'" + hook + "' is not a block hook; block hooks: " + BLOCK_HOOKS);
        return "blocks." + layer + "." + hook;
    }

    /** {@code blocks.*.<hook>}: the glob of one block hook at every layer (for caching). */
    public static String everyLayer(String hook) {
        if (!BLOCK_HOOKS.contains(hook)) throw new IllegalArgumentException("'" + hook + "' is not a block hook; block hooks: " + BLOCK_HOOKS);
        return "blocks.*." + hook;
    }

    public static String residPre(int layer) { return block(layer, "hook_resid_pre"); }
    public static String residMid(int layer) { return block(layer, "hook_resid_mid"); }
    public static String residPost(int layer) { return block(layer, "hook_resid_post"); }
    public static String attnOut(int layer) { return block(layer, "hook_attn_out"); }
    public static String mlpOut(int layer) { return block(layer, "hook_mlp_out"); }
    public static String attnResult(int layer) { return block(layer, "attn.hook_result"); }
    public static String attnZ(int layer) { return block(layer, "attn.hook_z"); }
    public static String attnQ(int layer) { return block(layer, "attn.hook_q"); }
    public static String attnK(int layer) { return block(layer, "attn.hook_k"); }
    public static String attnV(int layer) { return block(layer, "attn.hook_v"); }
    public static String attnPattern(int layer) { return block(layer, "attn.hook_pattern"); }
    public static String attnScores(int layer) { return block(layer, "attn.hook_attn_scores"); }
    public static String ln1Scale(int layer) { return block(layer, "ln1.hook_scale"); }
    public static String ln2Scale(int layer) { return block(layer, "ln2.hook_scale"); }
    /**
     * Gemma 2 only ({@link Architecture#postNorms()}): {@code blocks.L.ln1_post.hook_scale} [batch, pos, 1],
     * sqrt(mean(x^2) + eps) of the summed head results, the post-attention norm's input (not in {@link #names}).
     *
     * @since 2.2
     */
    public static String ln1PostScale(int layer) {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        return "blocks." + layer + ".ln1_post.hook_scale";
    }

    /** Gemma 2 only: {@code blocks.L.ln2_post.hook_scale}, the post-feed-forward norm's input scale. @since 2.2 */
    public static String ln2PostScale(int layer) {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        return "blocks." + layer + ".ln2_post.hook_scale";
    }

    public static String mlpPre(int layer) { return block(layer, "mlp.hook_pre"); }
    public static String mlpPost(int layer) { return block(layer, "mlp.hook_post"); }

    /** Every hook of a model with {@code nLayers} blocks, in forward order. */
    public static List<String> names(int nLayers) {
        List<String> names = new ArrayList<>();
        names.add(EMBED);
        for (int l = 0; l < nLayers; l++) for (String h : BLOCK_HOOKS) names.add("blocks." + l + "." + h);
        names.add(LN_FINAL_SCALE);
        names.add(LN_FINAL_NORMALIZED);
        names.add(LOGITS);
        return List.copyOf(names);
    }

    /** The layer of a {@code blocks.L.*} name, or -1 for the embedding and final hooks. */
    public static int layerOf(String hook) {
        if (!hook.startsWith("blocks.")) return -1;
        int end = hook.indexOf('.', 7);
        try {
            return Integer.parseInt(hook.substring(7, end < 0 ? hook.length() : end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** True for hooks with a head axis ({@code attn.hook_q/k/v/z/result/pattern/attn_scores}). */
    public static boolean perHead(String hook) {
        return hook.contains(".attn.hook_");
    }
}
