package org.refusallab.api.result;

import java.util.List;

/**
 * One measured quantity a finding's rule is applied to. {@code value} is the point estimate the rule reads (its basis
 * says over what, e.g. "mean over the 3 seed pairs"); {@code perPair} are the seed pairs' own values (their range is
 * shown; a bootstrap over 3 pairs would mean nothing); {@code interval} is the bootstrap interval over the held-out
 * pairs where the claim is about prompts of this form (null otherwise).
 */
public record Measure(String name, double value, String basis, List<Double> perPair, Interval interval) {

    public Measure {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a measure needs a name");
        basis = basis == null ? "" : basis;
        perPair = perPair == null ? List.of() : List.copyOf(perPair);
    }

    public static Measure of(String name, double value, String basis) {
        return new Measure(name, value, basis, List.of(), null);
    }

    public Measure perPair(double... values) {
        List<Double> list = new java.util.ArrayList<>();
        for (double v : values) list.add(v);
        return new Measure(name, value, basis, list, interval);
    }

    public Measure interval(Interval i) {
        return new Measure(name, value, basis, perPair, i);
    }

    public double min() {
        return perPair.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    public double max() {
        return perPair.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** "early MLP @ subject = 0.734 (mean over the 3 seed pairs; pairs 0.61-0.85; held-out 0.70 [0.55, 0.83] ...)". */
    public String text() {
        StringBuilder s = new StringBuilder(name).append(" = ").append(Finding.fmt(value));
        List<String> parts = new java.util.ArrayList<>();
        if (!basis.isEmpty()) parts.add(basis);
        if (!perPair.isEmpty()) parts.add("per pair " + Finding.fmt(min()) + " to " + Finding.fmt(max()));
        if (interval != null) parts.add("held-out " + interval.text());
        if (!parts.isEmpty()) s.append(" (").append(String.join("; ", parts)).append(")");
        return s.toString();
    }
}
