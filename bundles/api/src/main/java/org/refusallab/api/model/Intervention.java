package org.refusallab.api.model;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One edit of one hook point for one forward call (never state left on the model): a plain, serialisable value
 * with value equality and a stable text form ({@link #toString()}), so it can be compared, cached, sent to another
 * process and written into the report. Built with named steps:
 *
 * <pre>{@code
 * Intervention.at(Hooks.residPre(10)).positions(7).projectOut(direction)
 * Intervention.at(Hooks.attnResult(8)).rows(0, 2).heads(3).replaceWith(source).fromRows(1, 1)
 * Intervention.at(Hooks.mlpOut(0)).zero()
 * }</pre>
 *
 * <p>Where: a TransformerLens hook name ({@link Hooks}), the batch rows (null = all), the positions (null = all;
 * for {@code attn.hook_pattern} / {@code hook_attn_scores} query positions), and the heads (null = all; only for
 * per-head hooks). In a {@link ForwardRequest} positions index the left-padded batch; in a sweep row they index the
 * row's own tokens.
 *
 * <p>What:
 * <ul>
 *   <li>{@code REPLACE}: copy {@code source[sourceRows[i], pos, head, ...]} into row {@code rows[i]}; the source is
 *       a tensor of the hook's own shape (another run's activation, a mean, zeros).</li>
 *   <li>{@code ZERO}: set to zero.</li>
 *   <li>{@code PROJECT_OUT}: x - (x.r) r with r the unit {@code direction} (the last axis of the hook).</li>
 *   <li>{@code CLAMP}: x - (x.r) r + value r: the component along r set to {@code value}.</li>
 *   <li>{@code ADD}: x + value * direction (the direction as given, not normalised).</li>
 * </ul>
 * Several interventions on one call are applied in list order.
 */
public final class Intervention implements Serializable {

    private static final long serialVersionUID = 1L;

    public enum Kind { REPLACE, ZERO, PROJECT_OUT, CLAMP, ADD }

    private final String hook;
    private final Kind kind;
    private final int[] rows;
    private final int[] positions;
    private final int[] heads;
    private final Tensor source;
    private final int[] sourceRows;
    private final float[] direction;
    private final float value;

    private Intervention(String hook, Kind kind, int[] rows, int[] positions, int[] heads, Tensor source, int[] sourceRows,
                         float[] direction, float value) {
        if (hook == null || hook.isBlank()) throw new IllegalArgumentException("intervention without a hook name");
        if (kind == Kind.REPLACE && source == null) throw new IllegalArgumentException("REPLACE at " + hook + " needs a source tensor");
        if ((kind == Kind.PROJECT_OUT || kind == Kind.CLAMP || kind == Kind.ADD) && direction == null) {
            throw new IllegalArgumentException(kind + " at " + hook + " needs a direction");
        }
        if (heads != null && !Hooks.perHead(hook)) throw new IllegalArgumentException("intervention at " + hook + ": the hook has no head axis");
        if (kind == Kind.REPLACE && rows != null && sourceRows != null && rows.length != sourceRows.length) {
            throw new IllegalArgumentException("REPLACE at " + hook + ": " + rows.length + " rows but " + sourceRows.length + " source rows");
        }
        this.hook = hook;
        this.kind = kind;
        this.rows = copy(rows);
        this.positions = copy(positions);
        this.heads = copy(heads);
        this.source = source;
        this.sourceRows = copy(sourceRows);
        this.direction = direction == null ? null : direction.clone();
        this.value = value;
    }

    /** Starts an intervention at a hook: every row, position and head until narrowed. */
    public static Site at(String hook) {
        return new Site(hook, null, null, null);
    }

    /** Where an intervention acts; {@link #zero()}, {@link #projectOut}, {@link #clamp}, {@link #add}, {@link #replaceWith} say what. */
    public record Site(String hook, int[] rows, int[] positions, int[] heads) {
        /** Only these batch rows (null = all). */
        public Site rows(int... rows) { return new Site(hook, copy(rows), positions, heads); }
        /** Only these positions (null = all). */
        public Site positions(int... positions) { return new Site(hook, rows, copy(positions), heads); }
        /** Only these heads (null = all). */
        public Site heads(int... heads) { return new Site(hook, rows, positions, copy(heads)); }

        public Intervention zero() { return new Intervention(hook, Kind.ZERO, rows, positions, heads, null, null, null, 0f); }

        /** Projects the unit vector of {@code direction} out. */
        public Intervention projectOut(float[] direction) {
            return new Intervention(hook, Kind.PROJECT_OUT, rows, positions, heads, null, null, unit(direction), 0f);
        }

        /** Sets the component along the unit vector of {@code direction} to {@code value}. */
        public Intervention clamp(float[] direction, float value) {
            return new Intervention(hook, Kind.CLAMP, rows, positions, heads, null, null, unit(direction), value);
        }

        /** Adds {@code scale * vector} (not normalised). */
        public Intervention add(float[] vector, float scale) {
            return new Intervention(hook, Kind.ADD, rows, positions, heads, null, null, vector.clone(), scale);
        }

        /** Copies the same rows of {@code source} (see {@link Intervention#fromRows} to map rows). */
        public Intervention replaceWith(Tensor source) {
            return new Intervention(hook, Kind.REPLACE, rows, positions, heads, source, null, null, 0f);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Site s && hook.equals(s.hook) && Arrays.equals(rows, s.rows) && Arrays.equals(positions, s.positions)
                    && Arrays.equals(heads, s.heads);
        }

        @Override
        public int hashCode() {
            return Objects.hash(hook, Arrays.hashCode(rows), Arrays.hashCode(positions), Arrays.hashCode(heads));
        }

        @Override
        public String toString() {
            return hook + " rows=" + list(rows) + " positions=" + list(positions) + " heads=" + list(heads);
        }
    }

    /** REPLACE only: row {@code rows[i]} takes source row {@code sourceRows[i]}. */
    public Intervention fromRows(int... sourceRows) {
        if (kind != Kind.REPLACE) throw new IllegalStateException("fromRows is for REPLACE, not " + kind);
        return new Intervention(hook, kind, rows, positions, heads, source, sourceRows, direction, value);
    }

    /** The same edit on other rows (null = all). */
    public Intervention withRows(int[] rows) {
        return new Intervention(hook, kind, rows, positions, heads, source, sourceRows, direction, value);
    }

    /** The same edit at other positions (null = all). */
    public Intervention withPositions(int[] positions) {
        return new Intervention(hook, kind, rows, positions, heads, source, sourceRows, direction, value);
    }

    /** A REPLACE with another source tensor and source rows. */
    public Intervention withSource(Tensor source, int[] sourceRows) {
        return new Intervention(hook, kind, rows, positions, heads, source, sourceRows, direction, value);
    }

    public String hook() { return hook; }
    public Kind kind() { return kind; }
    public Site site() { return new Site(hook, rows, positions, heads); }
    /** Null = every row. */
    public int[] rows() { return copy(rows); }
    /** Null = every position. */
    public int[] positions() { return copy(positions); }
    /** Null = every head (or no head axis). */
    public int[] heads() { return copy(heads); }
    public Tensor source() { return source; }
    public int[] sourceRows() { return copy(sourceRows); }
    /** The unit direction (PROJECT_OUT, CLAMP) or the vector (ADD); null otherwise. */
    public float[] direction() { return direction == null ? null : direction.clone(); }
    public float value() { return value; }

    /** The layer of the hook, -1 outside the blocks. */
    public int layer() {
        return Hooks.layerOf(hook);
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

    /** First 12 hex digits of the SHA-256 of float32 little-endian values: names a vector in text and reports. */
    public static String hash(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array())).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The stable text form, e.g. {@code project_out blocks.3.hook_resid_pre rows=all positions=[7] heads=all
     * direction=sha256:0a1b2c3d4e5f}; equal interventions have equal text.
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind.name().toLowerCase()).append(' ').append(hook)
                .append(" rows=").append(list(rows)).append(" positions=").append(list(positions)).append(" heads=").append(list(heads));
        switch (kind) {
            case PROJECT_OUT -> s.append(" direction=sha256:").append(hash(direction));
            case CLAMP -> s.append(" direction=sha256:").append(hash(direction)).append(" value=").append(value);
            case ADD -> s.append(" vector=sha256:").append(hash(direction)).append(" scale=").append(value);
            case REPLACE -> s.append(" source=").append(Arrays.toString(source.shape())).append(":sha256:").append(hash(source.data()))
                    .append(" sourceRows=").append(list(sourceRows));
            default -> { }
        }
        return s.toString();
    }

    /** Same as {@link #toString()}. */
    public String describe() {
        return toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Intervention i && hook.equals(i.hook) && kind == i.kind && Arrays.equals(rows, i.rows)
                && Arrays.equals(positions, i.positions) && Arrays.equals(heads, i.heads) && Objects.equals(source, i.source)
                && Arrays.equals(sourceRows, i.sourceRows) && Arrays.equals(direction, i.direction)
                && Float.floatToIntBits(value) == Float.floatToIntBits(i.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(hook, kind, Arrays.hashCode(rows), Arrays.hashCode(positions), Arrays.hashCode(heads), source,
                Arrays.hashCode(sourceRows), Arrays.hashCode(direction), value);
    }

    private static int[] copy(int[] a) {
        return a == null ? null : a.clone();
    }

    static String list(int[] a) {
        return a == null ? "all" : Arrays.toString(a).replace(" ", "");
    }
}
