package org.refusallab.api.result;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.refusallab.api.model.Intervention;

/**
 * What a figure or table was computed from, written into its data JSON so it can be traced to exact tensors: the
 * hooks read, the interventions run (kind, hook, layer, positions, heads; interventions that differ only in rows,
 * sources or positions are summarised as one edit with the union of their positions) and the refusal direction.
 */
public record Provenance(List<String> hooks, List<Edit> interventions, Direction direction) {

    public static final Provenance NONE = new Provenance(List.of(), List.of(), null);

    public Provenance {
        hooks = hooks == null ? List.of() : List.copyOf(hooks);
        interventions = interventions == null ? List.of() : List.copyOf(interventions);
    }

    /** One kind of edit: positions and heads null = all; {@code example} is the text form of one of them. */
    public record Edit(String kind, String hook, int layer, List<Integer> positions, List<Integer> heads, int count, String example) { }

    /** A direction by its coordinates and a hash of its float32 values ({@link Intervention#hash}). */
    public record Direction(String name, int layer, int position, double norm, String sha256, String source) { }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final Set<String> hooks = new LinkedHashSet<>();
        private final Map<String, List<Intervention>> edits = new LinkedHashMap<>();
        private Direction direction;

        /** Hooks read (names or globs). */
        public Builder read(String... hooks) {
            this.hooks.addAll(Arrays.asList(hooks));
            return this;
        }

        public Builder read(Collection<String> hooks) {
            this.hooks.addAll(hooks);
            return this;
        }

        /** Interventions run. */
        public Builder ran(Collection<Intervention> interventions) {
            for (Intervention iv : interventions) {
                edits.computeIfAbsent(iv.kind() + " " + iv.hook() + " " + Arrays.toString(iv.heads()), k -> new ArrayList<>()).add(iv);
            }
            return this;
        }

        public Builder ran(Intervention... interventions) {
            return ran(Arrays.asList(interventions));
        }

        public Builder direction(Direction direction) {
            this.direction = direction;
            return this;
        }

        public Provenance build() {
            List<Edit> out = new ArrayList<>();
            for (List<Intervention> group : edits.values()) {
                Intervention first = group.get(0);
                TreeSet<Integer> positions = new TreeSet<>();
                boolean all = false;
                for (Intervention iv : group) {
                    if (iv.positions() == null) all = true; else for (int p : iv.positions()) positions.add(p);
                }
                out.add(new Edit(first.kind().name().toLowerCase(), first.hook(), first.layer(), all ? null : List.copyOf(positions),
                        first.heads() == null ? null : Arrays.stream(first.heads()).boxed().toList(), group.size(), first.toString()));
            }
            return new Provenance(List.copyOf(hooks), out, direction);
        }
    }
}
