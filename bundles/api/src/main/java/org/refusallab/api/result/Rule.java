package org.refusallab.api.result;

import java.util.List;

/**
 * A written rule that maps a finding's measures to a verdict, mechanically, so that anyone can reproduce the verdict
 * from the published numbers. {@code text} says what the claim means in numbers (the analyst's reading);
 * {@link #logic()} states the mapping, tolerance included.
 *
 * <p>Each measure is judged alone, then combined (every measure must hold):
 * <ul>
 * <li>the measure holds at its value ({@code AT_LEAST}: value &gt;= bound; {@code BELOW}: value &lt; bound;
 *     {@code AT_MOST}: value &lt;= bound; {@code WITHIN}: |value - bound| &lt;= tolerance) and its interval, if any, lies entirely inside: AGREES;</li>
 * <li>it holds at its value but the interval reaches outside, or it fails at its value but the interval reaches
 *     inside, or it passes the weaker {@code partlyBound} (NaN = none; for WITHIN a wider tolerance): PARTLY;</li>
 * <li>otherwise DISAGREES.</li>
 * </ul>
 * Combined: AGREES if every measure agrees, DISAGREES if every measure disagrees, else PARTLY. A rule marked
 * {@code seedModelOnly} (a claim about gemma-2b-it's absolute values) gives NOT_APPLICABLE on any other model; a
 * rule without measures gives NOT_APPLICABLE.
 */
public record Rule(String text, Kind kind, double bound, double tolerance, double partlyBound, boolean seedModelOnly) {

    public enum Kind { AT_LEAST, BELOW, AT_MOST, WITHIN }

    public Rule {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("a rule needs its text");
        if (kind == null) throw new IllegalArgumentException("a rule needs its kind");
        if (kind == Kind.WITHIN && !(tolerance >= 0)) throw new IllegalArgumentException("a WITHIN rule needs a tolerance >= 0, got " + tolerance);
    }

    /** Holds if value >= bound. */
    public static Rule atLeast(String text, double bound) {
        return new Rule(text, Kind.AT_LEAST, bound, 0, Double.NaN, false);
    }

    /** Holds if value < bound. */
    public static Rule below(String text, double bound) {
        return new Rule(text, Kind.BELOW, bound, 0, Double.NaN, false);
    }

    /** Holds if value <= bound. */
    public static Rule atMost(String text, double bound) {
        return new Rule(text, Kind.AT_MOST, bound, 0, Double.NaN, false);
    }

    /** Holds if |value - target| <= tolerance. */
    public static Rule within(String text, double target, double tolerance) {
        return new Rule(text, Kind.WITHIN, target, tolerance, Double.NaN, false);
    }

    /** A weaker bound that still gives PARTLY (for WITHIN: a wider tolerance). */
    public Rule partly(double weakerBound) {
        return new Rule(text, kind, bound, tolerance, weakerBound, seedModelOnly);
    }

    /** A claim about gemma-2b-it's own values: NOT_APPLICABLE on other models. */
    public Rule aboutSeedModel() {
        return new Rule(text, kind, bound, tolerance, partlyBound, true);
    }

    private boolean holds(double v, double b, double tol) {
        return switch (kind) {
            case AT_LEAST -> v >= b;
            case BELOW -> v < b;
            case AT_MOST -> v <= b;
            case WITHIN -> Math.abs(v - b) <= tol;
        };
    }

    private boolean holds(double v) {
        return holds(v, bound, tolerance);
    }

    private boolean holdsPartly(double v) {
        if (Double.isNaN(partlyBound)) return false;
        return kind == Kind.WITHIN ? holds(v, bound, partlyBound) : holds(v, partlyBound, 0);
    }

    /** The verdict of one measure. */
    public Finding.Verdict judge(Measure m) {
        double v = m.value();
        if (Double.isNaN(v)) return Finding.Verdict.NOT_APPLICABLE;
        Interval i = m.interval() != null && m.interval().defined() ? m.interval() : null;
        boolean allInside = i == null || (kind == Kind.WITHIN ? holds(i.lo()) && holds(i.hi()) : holds(i.lo()) && holds(i.hi()));
        boolean someInside = i != null && (holds(i.lo()) || holds(i.hi())
                || kind == Kind.WITHIN && i.lo() <= bound - tolerance && i.hi() >= bound + tolerance);
        if (holds(v)) return allInside ? Finding.Verdict.AGREES : Finding.Verdict.PARTLY;
        return someInside || holdsPartly(v) ? Finding.Verdict.PARTLY : Finding.Verdict.DISAGREES;
    }

    /** The verdict of all measures together, on the seed's model or another one. */
    public Finding.Verdict judge(List<Measure> measures, boolean seedModel) {
        if (seedModelOnly && !seedModel || measures.isEmpty()) return Finding.Verdict.NOT_APPLICABLE;
        int agree = 0, disagree = 0;
        for (Measure m : measures) {
            Finding.Verdict v = judge(m);
            if (v == Finding.Verdict.NOT_APPLICABLE) return v;
            if (v == Finding.Verdict.AGREES) agree++;
            if (v == Finding.Verdict.DISAGREES) disagree++;
        }
        return agree == measures.size() ? Finding.Verdict.AGREES : disagree == measures.size() ? Finding.Verdict.DISAGREES : Finding.Verdict.PARTLY;
    }

    /** The mapping in words, e.g. "AGREES if every measure >= 0.500 and its interval lies above it; ...". */
    public String logic() {
        String cond = switch (kind) {
            case AT_LEAST -> ">= " + Finding.fmt(bound);
            case BELOW -> "< " + Finding.fmt(bound);
            case AT_MOST -> "<= " + Finding.fmt(bound);
            case WITHIN -> "within " + Finding.fmt(bound) + " +/- " + Finding.fmt(tolerance);
        };
        String s = "AGREES if every measure is " + cond + " and its interval (where given) lies entirely there; DISAGREES if none is "
                + cond + " and no interval reaches there";
        if (!Double.isNaN(partlyBound)) {
            s += kind == Kind.WITHIN ? " nor within +/- " + Finding.fmt(partlyBound)
                    : " nor " + (kind == Kind.AT_LEAST ? ">= " : kind == Kind.BELOW ? "< " : "<= ") + Finding.fmt(partlyBound);
        }
        s += "; else PARTLY.";
        if (seedModelOnly) s += " About gemma-2b-it's own values: NOT_APPLICABLE on any other model.";
        return s;
    }
}
