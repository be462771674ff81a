package org.refusallab.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Interval;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;

/**
 * Findings as data: every rule with its bounds and every measure with its per-pair values and interval, so that a
 * verdict can be recomputed from the files alone (schema {@code refusal-lab-findings/1}, described in SCHEMA.md).
 */
public final class FindingData {

    /** The key of the run summary's model table that says whether the model is gemma-2b-it. */
    public static final String SEED_MODEL_KEY = "seed's model (gemma-2b-it shapes)";

    private FindingData() { }

    public static ObjectNode json(ObjectMapper mapper, String analysisId, Boolean seedModel, List<Finding> findings) {
        ObjectNode n = mapper.createObjectNode();
        n.put("schema", "refusal-lab-findings/1");
        n.put("analysis", analysisId);
        if (seedModel == null) n.putNull("seedModel"); else n.put("seedModel", seedModel);
        ArrayNode list = n.putArray("findings");
        for (Finding f : findings) list.add(finding(mapper, f));
        return n;
    }

    public static ObjectNode finding(ObjectMapper mapper, Finding f) {
        ObjectNode o = mapper.createObjectNode();
        o.put("claim", f.claim());
        o.put("reading", f.reading());
        o.put("measured", f.measured());
        o.put("verdict", f.verdict().name());
        o.put("note", f.note());
        Rule r = f.rule();
        if (r == null) {
            o.putNull("rule");
        } else {
            ObjectNode rn = o.putObject("rule");
            rn.put("text", r.text());
            rn.put("kind", r.kind().name());
            number(rn, "bound", r.bound());
            number(rn, "tolerance", r.tolerance());
            number(rn, "partlyBound", r.partlyBound());
            rn.put("seedModelOnly", r.seedModelOnly());
            rn.put("logic", r.logic());
        }
        ArrayNode ms = o.putArray("measures");
        for (Measure m : f.measures()) {
            ObjectNode mn = ms.addObject();
            mn.put("name", m.name());
            number(mn, "value", m.value());
            mn.put("basis", m.basis());
            ArrayNode pp = mn.putArray("perPair");
            for (double v : m.perPair()) if (Double.isFinite(v)) pp.add(v); else pp.addNull();
            Interval i = m.interval();
            if (i == null) {
                mn.putNull("interval");
            } else {
                ObjectNode in = mn.putObject("interval");
                number(in, "estimate", i.estimate());
                number(in, "lo", i.lo());
                number(in, "hi", i.hi());
                in.put("level", i.level());
                in.put("n", i.n());
                in.put("resamples", i.resamples());
                in.put("seed", i.seed());
                in.put("over", i.over());
            }
        }
        return o;
    }

    private static void number(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) n.put(key, v); else n.putNull(key);
    }

    /** One row per measure: claim, reading, verdict, rule, bound, measure, value, per-pair range, interval. */
    public static List<List<String>> csvRows(List<Finding> findings) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("finding", "claim", "reading", "verdict", "rule kind", "bound", "tolerance", "partly bound", "seed model only",
                "measure", "value", "basis", "per-pair min", "per-pair max", "interval lo", "interval hi", "interval over"));
        for (int k = 0; k < findings.size(); k++) {
            Finding f = findings.get(k);
            Rule r = f.rule();
            List<Measure> ms = f.measures().isEmpty() ? java.util.Collections.singletonList(null) : f.measures();
            for (Measure m : ms) {
                List<String> row = new ArrayList<>(List.of(Integer.toString(k), f.claim(), f.reading(), f.verdict().name()));
                row.addAll(r == null ? List.of("", "", "", "", "")
                        : List.of(r.kind().name(), FigureData.number(r.bound()), FigureData.number(r.tolerance()), FigureData.number(r.partlyBound()),
                        Boolean.toString(r.seedModelOnly())));
                if (m == null) {
                    row.addAll(List.of("", "", "", "", "", "", "", ""));
                } else {
                    Interval i = m.interval();
                    row.addAll(List.of(m.name(), FigureData.number(m.value()), m.basis(), FigureData.number(m.min()), FigureData.number(m.max()),
                            i == null ? "" : FigureData.number(i.lo()), i == null ? "" : FigureData.number(i.hi()), i == null ? "" : i.over()));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
