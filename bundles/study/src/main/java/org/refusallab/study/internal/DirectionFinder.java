package org.refusallab.study.internal;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.DirectionCandidate;
import org.refusallab.api.study.RefusalDirection;
import org.refusallab.api.study.RefusalMetric;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * Finds the refusal direction as prior work does (Arditi et al., 2406.11717): candidate directions are the
 * differences of mean {@code blocks.L.hook_resid_pre} (harmful - harmless) at every layer and post-instruction
 * position; each is scored by directional ablation on harmful prompts (bypass), activation addition on harmless
 * prompts (induce) and the KL divergence ablation causes on harmless prompts; the lowest bypass score among the
 * candidates that induce refusal (score > 0), stay under the KL bound and are not in the last layers wins.
 * All forwards go through the sweep service.
 */
final class DirectionFinder {

    /** Runs rows (the study's sweep with its batch size, progress and cancellation). */
    interface Sweep {
        List<RowResult> run(List<Row> rows);
    }

    private DirectionFinder() { }

    /** Mean differences {@code [layer][k][d_model]}, index j holding position j - k (from the end). */
    record MeanDifferences(double[][][] values, int postInstructionLength, int nHarmful, int nHarmless) {
        int nLayers() {
            return values.length;
        }

        float[] vector(int layer, int fromEnd) {
            double[] v = values[layer][postInstructionLength + fromEnd];
            float[] out = new float[v.length];
            for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
            return out;
        }
    }

    /** Mean of harmful minus mean of harmless {@code hook_resid_pre} at positions -k..-1, accumulated in double. */
    static MeanDifferences meanDifferences(Sweep sweep, int nLayers, List<int[]> harmful, List<int[]> harmless, int k) {
        if (harmful.isEmpty() || harmless.isEmpty()) throw new IllegalArgumentException("refusal direction needs harmful and harmless prompts");
        int[] positions = new int[k];
        for (int j = 0; j < k; j++) positions[j] = j - k;
        List<Row> rows = new ArrayList<>();
        for (List<int[]> set : List.of(harmful, harmless)) {
            for (int[] t : set) {
                Row r = Row.of(t);
                for (int l = 0; l < nLayers; l++) r = r.reading(ReadOut.activation(Hooks.residPre(l), positions));
                rows.add(r);
            }
        }
        List<RowResult> res = sweep.run(rows);
        double[][][][] sums = new double[2][nLayers][k][]; // [harmful, harmless][layer][position][d]
        for (int i = 0; i < res.size(); i++) {
            double[][][] sum = sums[i < harmful.size() ? 0 : 1];
            for (int l = 0; l < nLayers; l++) {
                var act = res.get(i).activation(l); // [k, d_model]
                int d = act.dim(1);
                for (int j = 0; j < k; j++) {
                    if (sum[l][j] == null) sum[l][j] = new double[d];
                    for (int x = 0; x < d; x++) sum[l][j][x] += act.data()[j * d + x];
                }
            }
        }
        double[][][] diff = sums[0];
        for (int l = 0; l < nLayers; l++) {
            for (int j = 0; j < k; j++) {
                double[] a = diff[l][j], b = sums[1][l][j];
                for (int x = 0; x < a.length; x++) a[x] = a[x] / harmful.size() - b[x] / harmless.size();
            }
        }
        return new MeanDifferences(diff, k, harmful.size(), harmless.size());
    }

    record Selection(RefusalDirection direction, List<DirectionCandidate> candidates) { }

    /**
     * Scores every candidate (rows of all candidates batched together) and picks the best.
     *
     * @param metric        the refusal metric used for the bypass and induce scores (prior work: log-odds of 'I')
     * @param pruneFraction the fraction of last layers never chosen (0.2 in prior work)
     * @param klBound       the largest allowed mean KL(baseline || ablated) on harmless prompts (0.1 in prior work)
     * @param fallbackKlBound if no candidate passes, the lowest bypass among those with induce > 0 and KL below this
     *                        bound is taken (said so in the direction's source); NaN = no fallback
     */
    static Selection select(Sweep sweep, MeanDifferences diffs, List<int[]> harmful, List<int[]> harmless,
                            RefusalMetric metric, double pruneFraction, double klBound, double fallbackKlBound) {
        int nLayers = diffs.nLayers();
        int k = diffs.postInstructionLength();
        int maxLayer = (int) (nLayers * (1.0 - pruneFraction)); // layers >= this are pruned, as in prior work
        List<RowResult> base = sweep.run(harmless.stream().map(t -> Row.of(t).reading(ReadOut.logits())).toList());

        List<int[]> cand = new ArrayList<>();
        List<int[]> zero = new ArrayList<>();
        for (int l = 0; l < maxLayer; l++) {
            for (int j = 0; j < k; j++) {
                // at layer 0 the post-instruction tokens are the same template tokens in every prompt: no direction
                if (norm(diffs.values()[l][j]) == 0) zero.add(new int[] {l, j - k}); else cand.add(new int[] {l, j - k});
            }
        }
        // one row per (candidate, task, prompt): ablation on harmful, ablation on harmless, addition on harmless
        record Task(int candidate, int task, int prompt) { }
        List<Task> tasks = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        for (int c = 0; c < cand.size(); c++) {
            float[] r = diffs.vector(cand.get(c)[0], cand.get(c)[1]);
            List<Intervention> ablate = Ablation.directional(nLayers, r);
            Intervention add = Ablation.addition(cand.get(c)[0], r, 1f);
            for (int p = 0; p < harmful.size(); p++) { tasks.add(new Task(c, 0, p)); rows.add(Row.of(harmful.get(p)).with(ablate).reading(ReadOut.logits())); }
            for (int p = 0; p < harmless.size(); p++) { tasks.add(new Task(c, 1, p)); rows.add(Row.of(harmless.get(p)).with(ablate).reading(ReadOut.logits())); }
            for (int p = 0; p < harmless.size(); p++) { tasks.add(new Task(c, 2, p)); rows.add(Row.of(harmless.get(p)).with(add).reading(ReadOut.logits())); }
        }
        double[] bypass = new double[cand.size()], induce = new double[cand.size()], kl = new double[cand.size()];
        List<RowResult> res = sweep.run(rows);
        for (int i = 0; i < tasks.size(); i++) {
            Task t = tasks.get(i);
            float[] logits = res.get(i).logits(0);
            switch (t.task()) {
                case 0 -> bypass[t.candidate()] += metric.apply(logits) / harmful.size();
                case 1 -> kl[t.candidate()] += RefusalMetric.klDivergence(base.get(t.prompt()).logits(0), logits) / harmless.size();
                default -> induce[t.candidate()] += metric.apply(logits) / harmless.size();
            }
        }
        List<DirectionCandidate> out = new ArrayList<>();
        DirectionCandidate best = null, fallback = null;
        for (int c = 0; c < cand.size(); c++) {
            boolean passes = induce[c] > 0 && kl[c] < klBound && Double.isFinite(bypass[c]);
            DirectionCandidate cd = new DirectionCandidate(cand.get(c)[0], cand.get(c)[1], bypass[c], induce[c], kl[c], false, passes);
            out.add(cd);
            if (passes && (best == null || cd.bypass() < best.bypass())) best = cd;
            boolean passesFallback = induce[c] > 0 && kl[c] < fallbackKlBound && Double.isFinite(bypass[c]);
            if (passesFallback && (fallback == null || cd.bypass() < fallback.bypass())) fallback = cd;
        }
        for (int[] z : zero) out.add(new DirectionCandidate(z[0], z[1], Double.NaN, Double.NaN, Double.NaN, false, false));
        for (int l = maxLayer; l < nLayers; l++) {
            for (int j = 0; j < k; j++) out.add(new DirectionCandidate(l, j - k, Double.NaN, Double.NaN, Double.NaN, true, false));
        }
        String how = "selected";
        if (best == null && fallback != null) {
            best = fallback;
            how = "FALLBACK (no candidate passed prior work's filters induce > 0, KL < " + klBound + "): among induce > 0, KL < " + fallbackKlBound + ", layer < " + maxLayer + ",";
        }
        if (best == null) {
            throw new IllegalStateException("no refusal direction candidate passed the filters (induce > 0, KL < " + klBound
                    + (Double.isNaN(fallbackKlBound) ? "" : ", nor the fallback KL < " + fallbackKlBound)
                    + ", layer < " + maxLayer + "); configure study.direction.layer and study.direction.position instead");
        }
        RefusalDirection dir = new RefusalDirection(best.layer(), best.position(), diffs.vector(best.layer(), best.position()),
                how + ": lowest bypass score " + String.format(java.util.Locale.ROOT, "%.3f", best.bypass()) + " (" + metric.kind() + "), KL "
                        + String.format(java.util.Locale.ROOT, "%.3f", best.kl()));
        return new Selection(dir, out);
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }
}
