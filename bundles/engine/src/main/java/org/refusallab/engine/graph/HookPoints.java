package org.refusallab.engine.graph;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.refusallab.checkpoint.GemmaConfig;

/** TransformerLens hook names of the Gemma graph, their tensor layouts, and name globs. */
public final class HookPoints {

    private HookPoints() { }

    /** How a hook's axes are laid out, which says where rows, positions and heads are. */
    public enum Layout {
        /** [batch, pos, trailing]: residual stream, block outputs, MLP activations, norm scales, logits. */
        POSITION,
        /** [batch, pos, head, trailing]: attn.hook_q/k/v/z/result. */
        POSITION_HEAD,
        /** [batch, head, query, key]: attn.hook_attn_scores / hook_pattern (positions are query positions). */
        HEAD_QUERY
    }

    public static final List<String> BLOCK_HOOKS = List.of(
            "hook_resid_pre", "ln1.hook_scale", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores",
            "attn.hook_pattern", "attn.hook_z", "attn.hook_result", "hook_attn_out", "hook_resid_mid", "ln2.hook_scale",
            "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post");

    /**
     * A Gemma 2 block's hooks: TransformerLens's, with the post-attention and post-feed-forward norms {@code ln1_post}
     * and {@code ln2_post} before {@code hook_attn_out} / {@code hook_mlp_out} (which are therefore what is added to the
     * residual stream; {@code attn.hook_result} sums to the input of {@code ln1_post}).
     */
    public static final List<String> GEMMA2_BLOCK_HOOKS = List.of(
            "hook_resid_pre", "ln1.hook_scale", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores",
            "attn.hook_pattern", "attn.hook_z", "attn.hook_result", "ln1_post.hook_scale", "hook_attn_out", "hook_resid_mid",
            "ln2.hook_scale", "mlp.hook_pre", "mlp.hook_post", "ln2_post.hook_scale", "hook_mlp_out", "hook_resid_post");

    /** Every hook name of this model (Gemma 1 or Gemma 2), in forward order. */
    public static List<String> all(GemmaConfig cfg) {
        if (!cfg.isGemma2()) return all(cfg.numLayers());
        List<String> names = new ArrayList<>();
        names.add("hook_embed");
        for (int l = 0; l < cfg.numLayers(); l++) {
            for (String h : GEMMA2_BLOCK_HOOKS) names.add("blocks." + l + "." + h);
        }
        names.add("ln_final.hook_scale");
        names.add("ln_final.hook_normalized");
        names.add(GemmaGraph.LOGITS);
        return names;
    }

    /** {@link #expand(Set, int)} against this model's hook names (Gemma 2 has more). */
    public static Set<String> expand(Set<String> patterns, GemmaConfig cfg) {
        return expand(patterns, all(cfg), cfg.numLayers());
    }

    /** Every hook name of a Gemma 1 model with {@code nLayers} blocks, in forward order. */
    public static List<String> all(int nLayers) {
        List<String> names = new ArrayList<>();
        names.add("hook_embed");
        for (int l = 0; l < nLayers; l++) {
            for (String h : BLOCK_HOOKS) names.add("blocks." + l + "." + h);
        }
        names.add("ln_final.hook_scale");
        names.add("ln_final.hook_normalized");
        names.add(GemmaGraph.LOGITS);
        return names;
    }

    public static Layout layout(String hook) {
        if (hook.endsWith("attn.hook_pattern") || hook.endsWith("attn.hook_attn_scores")) return Layout.HEAD_QUERY;
        if (hook.endsWith("attn.hook_q") || hook.endsWith("attn.hook_k") || hook.endsWith("attn.hook_v")
                || hook.endsWith("attn.hook_z") || hook.endsWith("attn.hook_result")) return Layout.POSITION_HEAD;
        return Layout.POSITION;
    }

    /**
     * Expands names and globs ({@code *} matches within one dotted part, {@code **} across parts) against the
     * model's hook names; a pattern that matches nothing is an error naming it.
     */
    public static Set<String> expand(Set<String> patterns, int nLayers) {
        return expand(patterns, all(nLayers), nLayers);
    }

    private static Set<String> expand(Set<String> patterns, List<String> all, int nLayers) {
        Set<String> out = new LinkedHashSet<>();
        for (String p : patterns) {
            Pattern regex = Pattern.compile(globToRegex(p.trim()));
            boolean any = false;
            for (String name : all) {
                if (regex.matcher(name).matches()) {
                    out.add(name);
                    any = true;
                }
            }
            if (!any) throw new IllegalArgumentException("hook pattern '" + p + "' matches no hook point of this " + nLayers + "-layer model");
        }
        return out;
    }

    static String globToRegex(String glob) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    sb.append(".*");
                    i++;
                } else {
                    sb.append("[^.]*");
                }
            } else if (c == '?') {
                sb.append("[^.]");
            } else {
                sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return sb.toString();
    }
}
