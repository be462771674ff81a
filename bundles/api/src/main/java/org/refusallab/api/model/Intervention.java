package org.refusallab.api.model;

import java.util.Arrays;

/**
 * One edit of one hook point for one forward call (never state left on the model).
 *
 * <p>Where: a TransformerLens hook name, the batch rows (null = all), the positions (null = all; for
 * {@code attn.hook_pattern} / {@code attn.hook_attn_scores} these are query positions), and the heads
 * (null = all; only for per-head hooks {@code attn.hook_q/k/v/z/result/pattern/attn_scores}).
 * Positions are indices into the left-padded batch; {@link ForwardResult#position} converts.
 *
 * <p>What:
 * <ul>
 *   <li>{@code REPLACE}: copy {@code source[sourceRows[i], pos, head, ...]} into row {@code rows[i]}; the source is
 *       a cached tensor of the hook's own shape (another run's activation, or a mean, or zeros).</li>
 *   <li>{@code ZERO}: set to zero.</li>
 *   <li>{@code PROJECT_OUT}: x - (x.r) r with r the unit {@code direction} (the last axis of the hook).</li>
 *   <li>{@code CLAMP}: x - (x.r) r + value r: set the component along r to {@code value}.</li>
 *   <li>{@code ADD}: x + value * direction (direction is used as given, not normalised).</li>
 * </ul>
 * Several interventions on one call are applied in list order; any hook point can take one.
 */
public record Intervention(String hook, Kind kind, int[] rows, int[] positions, int[] heads,
                           Tensor source, int[] sourceRows, float[] direction, float value) {

    public enum Kind { REPLACE, ZERO, PROJECT_OUT, CLAMP, ADD }

    public Intervention {
        if (hook == null || hook.isBlank()) throw new IllegalArgumentException("intervention without a hook name");
        if (kind == Kind.REPLACE && source == null) throw new IllegalArgumentException("REPLACE at " + hook + " needs a source tensor");
        if ((kind == Kind.PROJECT_OUT || kind == Kind.CLAMP || kind == Kind.ADD) && direction == null) {
            throw new IllegalArgumentException(kind + " at " + hook + " needs a direction");
        }
        if (kind == Kind.REPLACE && rows != null && sourceRows != null && rows.length != sourceRows.length) {
            throw new IllegalArgumentException("REPLACE at " + hook + ": " + rows.length + " rows but " + sourceRows.length + " source rows");
        }
    }

    /** Patch rows (all if null) at positions/heads with the same rows of {@code source}. */
    public static Intervention replace(String hook, Tensor source, int[] rows, int[] sourceRows, int[] positions, int[] heads) {
        return new Intervention(hook, Kind.REPLACE, rows, positions, heads, source, sourceRows, null, 0f);
    }

    public static Intervention zero(String hook, int[] rows, int[] positions, int[] heads) {
        return new Intervention(hook, Kind.ZERO, rows, positions, heads, null, null, null, 0f);
    }

    public static Intervention projectOut(String hook, float[] direction, int[] rows, int[] positions) {
        return new Intervention(hook, Kind.PROJECT_OUT, rows, positions, null, null, null, unit(direction), 0f);
    }

    public static Intervention clamp(String hook, float[] direction, float value, int[] rows, int[] positions) {
        return new Intervention(hook, Kind.CLAMP, rows, positions, null, null, null, unit(direction), value);
    }

    public static Intervention add(String hook, float[] vector, float scale, int[] rows, int[] positions) {
        return new Intervention(hook, Kind.ADD, rows, positions, null, null, null, vector.clone(), scale);
    }

    /** r / |r| in double precision. */
    public static float[] unit(float[] r) {
        double n = 0;
        for (float v : r) n += (double) v * v;
        n = Math.sqrt(n);
        if (n == 0) throw new IllegalArgumentException("direction has zero norm");
        float[] u = new float[r.length];
        for (int i = 0; i < r.length; i++) u[i] = (float) (r[i] / n);
        return u;
    }

    /** A short human-readable description for report captions. */
    public String describe() {
        return kind + " " + hook
                + (rows == null ? "" : " rows=" + Arrays.toString(rows))
                + (positions == null ? "" : " pos=" + Arrays.toString(positions))
                + (heads == null ? "" : " heads=" + Arrays.toString(heads))
                + (kind == Kind.CLAMP || kind == Kind.ADD ? " value=" + value : "");
    }
}
