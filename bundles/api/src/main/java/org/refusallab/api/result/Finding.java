package org.refusallab.api.result;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The seed write-up's claim beside what this run measured, and the verdict. A finding made with {@link #judge} also
 * carries its {@link Rule} (the reading and the mapping, tolerance included), the {@link Measure}s the rule was
 * applied to (per-pair values of the seed pairs, bootstrap intervals over held-out pairs), a note (e.g. how the
 * seed's layer numbers were scaled, why a claim is not applicable) and the reading of an ambiguous claim it uses.
 * The verdict is the rule's: the published data holds everything needed to reproduce it.
 *
 * @param rule null for a finding made with the 2.0 constructor (no written rule)
 */
public record Finding(String claim, String measured, Verdict verdict, Rule rule, List<Measure> measures, String note, String reading) {

    public enum Verdict { AGREES, PARTLY, DISAGREES, NOT_APPLICABLE }

    public Finding {
        measures = measures == null ? List.of() : List.copyOf(measures);
        note = note == null ? "" : note;
        reading = reading == null ? "" : reading;
    }

    /** A finding without a written rule (API 2.0). */
    public Finding(String claim, String measured, Verdict verdict) {
        this(claim, measured, verdict, null, List.of(), "", "");
    }

    /**
     * The finding whose verdict is {@code rule} applied to {@code measures}; {@code seedModel}: whether the model
     * is gemma-2b-it (for {@link Rule#seedModelOnly} rules).
     */
    public static Finding judge(String claim, Rule rule, boolean seedModel, String note, Measure... measures) {
        List<Measure> ms = List.of(measures);
        Verdict v = rule.judge(ms, seedModel);
        List<String> texts = new ArrayList<>();
        for (Measure m : ms) texts.add(m.text());
        String measured = String.join("; ", texts);
        String n = note == null ? "" : note;
        if (rule.seedModelOnly() && !seedModel) {
            n = (n.isEmpty() ? "" : n + " ") + "Not applicable: the claim is about gemma-2b-it's own values; this model's are shown for context.";
        }
        return new Finding(claim, measured, v, rule, ms, n, "");
    }

    /** This finding under a named reading of an ambiguous claim. */
    public Finding reading(String name) {
        return new Finding(claim, measured, verdict, rule, measures, note, name);
    }

    /** This finding with more note text. */
    public Finding note(String more) {
        return new Finding(claim, measured, verdict, rule, measures, note.isEmpty() ? more : note + " " + more, reading);
    }

    /** The verdict the rule gives for the published measures (the verdict itself for a finding without a rule). */
    public Verdict recomputed(boolean seedModel) {
        return rule == null ? verdict : rule.judge(measures, seedModel);
    }

    /**
     * The same claim under several readings: when their verdicts differ, each one's note says so and names them all.
     */
    public static List<Finding> readings(List<Finding> alternatives) {
        boolean differ = alternatives.stream().map(Finding::verdict).distinct().count() > 1;
        if (!differ) return List.copyOf(alternatives);
        List<String> parts = new ArrayList<>();
        for (Finding f : alternatives) parts.add(f.reading() + ": " + f.verdict());
        String text = "The verdict depends on the reading (" + String.join("; ", parts) + ").";
        return alternatives.stream().map(f -> f.note(text)).toList();
    }

    /** Three decimals, "n/a" for NaN, "inf" beyond 1e300 (a rule's stand-in for "none"): how findings print numbers. */
    public static String fmt(double x) {
        if (Double.isNaN(x)) return "n/a";
        if (Math.abs(x) >= 1e300) return x > 0 ? "inf" : "-inf";
        return String.format(Locale.ROOT, "%.3f", x);
    }
}
