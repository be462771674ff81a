package org.refusallab.study.internal;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.study.HeadClassParameters;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.LayerGroups;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/** Classifies the middle-layer heads from their attention patterns: one batched sweep over the pairs' prompts. */
final class HeadClassFinder {

    private HeadClassFinder() { }

    /** The classified layer range [from, to): the parameter, or the seed's L6-L12 of 18 layers scaled. */
    static int[] layers(String spec, int nLayers) {
        if (spec == null || spec.isBlank()) {
            int from = LayerGroups.scaled(6, nLayers), to = Math.max(from + 1, LayerGroups.scaled(12, nLayers));
            return new int[] {from, Math.min(to, nLayers)};
        }
        LayerGroups.Group g = LayerGroups.parse(spec.trim(), nLayers).get(0);
        return new int[] {g.from(), g.to()};
    }

    static HeadClasses find(RunStudy study, HeadClassParameters p) {
        String reading = p.diagonal().trim();
        if (!reading.equals("mean") && !reading.equals("sum")) {
            throw new IllegalArgumentException("headClasses.diagonal = '" + p.diagonal() + "' is not mean or sum");
        }
        String prompts = p.prompts().trim();
        if (!List.of("both", "harmful", "harmless").contains(prompts)) {
            throw new IllegalArgumentException("headClasses.prompts = '" + p.prompts() + "' is not both, harmful or harmless");
        }
        int[] range = layers(p.layers(), study.nLayers());
        int from = range[0], to = range[1], nl = to - from, nh = study.model().info().nHeads();
        List<int[]> tokens = new ArrayList<>();
        List<Integer> subjects = new ArrayList<>();
        for (PairTokens pt : study.pairTokens()) {
            if (!prompts.equals("harmless")) { tokens.add(pt.harmful()); subjects.add(pt.subject()); }
            if (!prompts.equals("harmful")) { tokens.add(pt.harmless()); subjects.add(pt.subject()); }
        }
        List<Row> rows = new ArrayList<>();
        for (int[] t : tokens) {
            Row r = Row.of(t);
            for (int l = from; l < to; l++) r = r.reading(ReadOut.activationAll(Hooks.attnPattern(l)));
            rows.add(r);
        }
        List<RowResult> res = study.sweep(rows);
        double[][] bos = new double[nl][nh], direct = new double[nl][nh], diagonal = new double[nl][nh];
        for (int i = 0; i < rows.size(); i++) {
            int n = tokens.get(i).length, subject = subjects.get(i);
            for (int l = 0; l < nl; l++) {
                Tensor pat = res.get(i).activation(l);  // [query, head, key] over real positions
                for (int h = 0; h < nh; h++) {
                    double b = 0, d = 0;
                    for (int q = 1; q < n; q++) {
                        b += pat.get(q, h, 0);
                        d += pat.get(q, h, q - 1);
                    }
                    int queries = Math.max(1, n - 1);
                    bos[l][h] += b / queries / rows.size();
                    diagonal[l][h] += (reading.equals("mean") ? d / queries : d) / rows.size();
                    direct[l][h] += pat.get(n - 1, h, subject) / rows.size();
                }
            }
        }
        HeadClasses.Kind[][] kinds = new HeadClasses.Kind[nl][nh];
        for (int l = 0; l < nl; l++) {
            for (int h = 0; h < nh; h++) kinds[l][h] = HeadClasses.classify(direct[l][h], diagonal[l][h], bos[l][h], p.threshold(), p.bosThreshold());
        }
        return new HeadClasses(from, to, nh, bos, direct, diagonal, kinds, p.threshold(), p.bosThreshold(), reading, prompts, rows.size());
    }
}
