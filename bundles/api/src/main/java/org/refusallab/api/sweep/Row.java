package org.refusallab.api.sweep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.refusallab.api.model.Intervention;

/**
 * One unit of heavy work: a token sequence, the interventions on it, and what to read out. A plain serialisable
 * value, so a sweep can run in this JVM or elsewhere.
 *
 * <p>Coordinates are the row's own: positions count from its first token (or from the end when negative, -1 = last);
 * {@code rows} of its interventions are ignored (an intervention acts on its row). A REPLACE source is the source
 * run's activation of this row alone, shaped like an {@link ReadOut#activation} read-out of all positions:
 * {@code [pos, ...]} without a batch axis. Positions of a REPLACE left null mean every real position.
 *
 * <pre>{@code Row.of(tokens).with(Intervention.at(Hooks.residPre(3)).positions(-1).replaceWith(source)).reading(ReadOut.metric(metric))}</pre>
 */
public record Row(int[] tokens, List<Intervention> interventions, List<ReadOut> readOuts) implements Serializable {

    public Row {
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("row without tokens");
        tokens = tokens.clone();
        interventions = interventions == null ? List.of() : List.copyOf(interventions);
        readOuts = readOuts == null ? List.of() : List.copyOf(readOuts);
    }

    public static Row of(int[] tokens) {
        return new Row(tokens, List.of(), List.of());
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    public int length() {
        return tokens.length;
    }

    public Row with(Intervention... more) {
        return with(Arrays.asList(more));
    }

    public Row with(List<Intervention> more) {
        List<Intervention> all = new ArrayList<>(interventions);
        all.addAll(more);
        return new Row(tokens, all, readOuts);
    }

    public Row reading(ReadOut... more) {
        List<ReadOut> all = new ArrayList<>(readOuts);
        all.addAll(Arrays.asList(more));
        return new Row(tokens, interventions, all);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Row r && Arrays.equals(tokens, r.tokens) && interventions.equals(r.interventions) && readOuts.equals(r.readOuts);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokens), interventions, readOuts);
    }

    @Override
    public String toString() {
        return "Row[" + tokens.length + " tokens, " + interventions.size() + " interventions, reading " + readOuts + "]";
    }
}
