package org.refusallab.report;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The verdict of a published finding recomputed from its JSON alone, written from the rule's description in
 * SCHEMA.md without the API's Rule class: what an outside reader would do.
 */
final class IndependentVerdicts {

    private IndependentVerdicts() { }

    static String verdict(JsonNode finding, boolean seedModel) {
        JsonNode rule = finding.get("rule");
        JsonNode measures = finding.get("measures");
        if (rule.get("seedModelOnly").asBoolean() && !seedModel || measures.isEmpty()) return "NOT_APPLICABLE";
        int agree = 0, disagree = 0;
        for (JsonNode m : measures) {
            if (m.get("value").isNull()) return "NOT_APPLICABLE";
            String v = one(rule, m);
            if (v.equals("AGREES")) agree++;
            if (v.equals("DISAGREES")) disagree++;
        }
        return agree == measures.size() ? "AGREES" : disagree == measures.size() ? "DISAGREES" : "PARTLY";
    }

    private static double num(JsonNode n, String key) {
        return n.get(key) == null || n.get(key).isNull() ? Double.NaN : n.get(key).asDouble();
    }

    private static boolean inside(String kind, double x, double bound, double tol) {
        switch (kind) {
            case "AT_LEAST": return x >= bound;
            case "BELOW": return x < bound;
            case "AT_MOST": return x <= bound;
            case "WITHIN": return bound - tol <= x && x <= bound + tol;
            default: throw new IllegalArgumentException(kind);
        }
    }

    private static String one(JsonNode rule, JsonNode m) {
        String kind = rule.get("kind").asText();
        double b = num(rule, "bound"), tol = num(rule, "tolerance"), weak = num(rule, "partlyBound"), v = num(m, "value");
        JsonNode i = m.get("interval");
        double lo = i.isNull() ? Double.NaN : num(i, "lo"), hi = i.isNull() ? Double.NaN : num(i, "hi");
        boolean hasInterval = !Double.isNaN(lo) && !Double.isNaN(hi);
        if (inside(kind, v, b, tol)) {
            return !hasInterval || inside(kind, lo, b, tol) && inside(kind, hi, b, tol) ? "AGREES" : "PARTLY";
        }
        // the interval [lo, hi] meets the region where the rule holds
        boolean meets = hasInterval && switch (kind) {
            case "AT_LEAST" -> hi >= b;
            case "BELOW" -> lo < b;
            case "AT_MOST" -> lo <= b;
            default -> lo <= b + tol && hi >= b - tol;
        };
        boolean weaker = !Double.isNaN(weak) && (kind.equals("WITHIN") ? inside(kind, v, b, weak) : inside(kind, v, weak, 0));
        return meets || weaker ? "PARTLY" : "DISAGREES";
    }
}
