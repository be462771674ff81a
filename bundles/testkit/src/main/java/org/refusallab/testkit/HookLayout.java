package org.refusallab.testkit;

/**
 * Which axes of a hook's value the positions and heads of an {@link org.refusallab.api.model.Intervention} index.
 * {@code [batch, pos, ...]} hooks: positions on axis 1; {@code [batch, pos, head, x]} (q, k, v, z, result): heads on
 * axis 2; {@code [batch, head, query, key]} (attn_scores, pattern): query positions on axis 2, heads on axis 1.
 * The last axis is always the vector that PROJECT_OUT / CLAMP / ADD act on.
 *
 * @param positionAxis axis indexed by positions
 * @param headAxis     axis indexed by heads, or -1 for hooks without a head axis
 */
record HookLayout(int positionAxis, int headAxis) {

    static HookLayout of(String hook) {
        if (hook.endsWith("attn.hook_attn_scores") || hook.endsWith("attn.hook_pattern")) return new HookLayout(2, 1);
        if (hook.endsWith("attn.hook_q") || hook.endsWith("attn.hook_k") || hook.endsWith("attn.hook_v")
                || hook.endsWith("attn.hook_z") || hook.endsWith("attn.hook_result")) {
            return new HookLayout(1, 2);
        }
        return new HookLayout(1, -1);
    }
}
