package org.refusallab.study;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.refusallab.api.model.Intervention;

/**
 * Finds the refusal direction as prior work does (Arditi et al., 2406.11717): candidate directions are the
 * differences of mean {@code blocks.L.hook_resid_pre} (harmful - harmless) at every layer and post-instruction
 * position; each is scored by directional ablation on harmful prompts (bypass), activation addition on harmless
 * prompts (induce) and the KL divergence ablation causes on harmless prompts; the lowest bypass score among the
 * candidates that induce refusal (score > 0), stay under the KL bound and are not in the last layers wins.
 */
public final class DirectionFinder {

    private DirectionFinder() { }

    /** Mean differences {@code [layer][k][d_model]}, index j holding position j - k (from the end). */
    public record MeanDifferences(double[][][] values, int postInstructionLength, int nHarmful, int nHarmless) {
        public int nLayers() {
            return values.length;
        }

        public float[] vector(int layer, int fromEnd) {
            double[] v = values[layer][postInstructionLength + fromEnd];
            float[] out = new float[v.length];
            for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
            return out;
        }
    }

    /** Mean of harmful minus mean of harmless {@code hook_resid_pre} at positions -k..-1, accumulated in double. */
    public static MeanDifferences meanDifferences(Batches batches, int nLayers, List<int[]> harmful, List<int[]> harmless, int k) {
        double[][][] sumHarmful = accumulate(batches, nLayers, harmful, k);
        double[][][] sumHarmless = accumulate(batches, nLayers, harmless, k);
        for (int l = 0; l < nLayers; l++) {
            for (int j = 0; j < k; j++) {
                double[] a = sumHarmful[l][j], b = sumHarmless[l][j];
                for (int i = 0; i < a.length; i++) a[i] = a[i] / harmful.size() - b[i] / harmless.size();
            }
        }
        return new MeanDifferences(sumHarmful, k, harmful.size(), harmless.size());
    }

    private static double[][][] accumulate(Batches batches, int nLayers, List<int[]> rows, int k) {
        if (rows.isEmpty()) throw new IllegalArgumentException("refusal direction needs harmful and harmless prompts");
        double[][][] sum = new double[nLayers][k][];
        batches.forEach(rows, Set.of("blocks.*.hook_resid_pre"), c -> List.of(), (chunk, r) -> {
            for (int l = 0; l < nLayers; l++) {
                var t = r.hook(Interventions.residPre(l));
                int d = t.dim(2);
                for (int j = 0; j < k; j++) {
                    if (sum[l][j] == null) sum[l][j] = new double[d];
                    double[] s = sum[l][j];
                    int pos = chunk.position(j - k);
                    for (int b = 0; b < chunk.size(); b++) {
                        int off = t.offset(b, pos, 0);
                        for (int i = 0; i < d; i++) s[i] += t.data()[off + i];
                    }
                }
            }
        });
        return sum;
    }

    /** One candidate's scores (NaN where not scored: pruned layers, all-zero differences); {@code passes}: survived every filter. */
    public record Candidate(int layer, int position, double bypass, double induce, double kl, boolean prunedLayer, boolean passes) { }

    public record Selection(RefusalDirection direction, List<Candidate> candidates) { }

    /**
     * Scores every candidate (rows of all candidates batched together) and picks the best.
     *
     * @param metric       the refusal metric used for the bypass and induce scores (prior work: log-odds of 'I')
     * @param pruneFraction the fraction of last layers never chosen (0.2 in prior work)
     * @param klBound      the largest allowed mean KL(baseline || ablated) on harmless prompts (0.1 in prior work)
     */
    public static Selection select(Batches batches, MeanDifferences diffs, List<int[]> harmful, List<int[]> harmless,
                                   RefusalMetric metric, double pruneFraction, double klBound) {
        int nLayers = diffs.nLayers();
        int k = diffs.postInstructionLength();
        int maxLayer = (int) (nLayers * (1.0 - pruneFraction)); // layers >= this are pruned, as in prior work
        float[][] baseHarmless = batches.lastLogits(harmless, List.of());

        // one row per (candidate, task, prompt): ablation on harmful, ablation on harmless, addition on harmless
        record Row(int candidate, int task, int prompt) { }
        List<int[]> cand = new ArrayList<>();
        List<int[]> zero = new ArrayList<>();
        for (int l = 0; l < maxLayer; l++) {
            for (int j = 0; j < k; j++) {
                // at layer 0 the post-instruction tokens are the same template tokens in every prompt: no direction
                if (norm(diffs.values()[l][j]) == 0) zero.add(new int[] {l, j - k}); else cand.add(new int[] {l, j - k});
            }
        }
        List<Row> rows = new ArrayList<>();
        List<int[]> tokens = new ArrayList<>();
        for (int c = 0; c < cand.size(); c++) {
            for (int p = 0; p < harmful.size(); p++) { rows.add(new Row(c, 0, p)); tokens.add(harmful.get(p)); }
            for (int p = 0; p < harmless.size(); p++) { rows.add(new Row(c, 1, p)); tokens.add(harmless.get(p)); }
            for (int p = 0; p < harmless.size(); p++) { rows.add(new Row(c, 2, p)); tokens.add(harmless.get(p)); }
        }
        double[] bypass = new double[cand.size()], induce = new double[cand.size()], kl = new double[cand.size()];
        batches.forEach(tokens, Set.of(), chunk -> {
            List<Intervention> iv = new ArrayList<>();
            // group the chunk's rows by candidate and task
            java.util.Map<Integer, List<Integer>> ablate = new java.util.TreeMap<>(), add = new java.util.TreeMap<>();
            for (int i = 0; i < chunk.size(); i++) {
                Row r = rows.get(chunk.start() + i);
                (r.task() == 2 ? add : ablate).computeIfAbsent(r.candidate(), x -> new ArrayList<>()).add(i);
            }
            ablate.forEach((c, local) -> iv.addAll(Interventions.directionalAblation(nLayers,
                    diffs.vector(cand.get(c)[0], cand.get(c)[1]), toArray(local))));
            add.forEach((c, local) -> iv.add(Interventions.activationAddition(cand.get(c)[0],
                    diffs.vector(cand.get(c)[0], cand.get(c)[1]), 1f, toArray(local))));
            return iv;
        }, (chunk, r) -> {
            for (int i = 0; i < chunk.size(); i++) {
                Row row = rows.get(chunk.start() + i);
                float[] logits = r.lastLogits().row(i);
                switch (row.task()) {
                    case 0 -> bypass[row.candidate()] += metric.apply(logits) / harmful.size();
                    case 1 -> kl[row.candidate()] += RefusalMetric.klDivergence(baseHarmless[row.prompt()], logits) / harmless.size();
                    default -> induce[row.candidate()] += metric.apply(logits) / harmless.size();
                }
            }
        });
        List<Candidate> out = new ArrayList<>();
        Candidate best = null;
        for (int c = 0; c < cand.size(); c++) {
            boolean passes = induce[c] > 0 && kl[c] < klBound && Double.isFinite(bypass[c]);
            Candidate cd = new Candidate(cand.get(c)[0], cand.get(c)[1], bypass[c], induce[c], kl[c], false, passes);
            out.add(cd);
            if (passes && (best == null || cd.bypass() < best.bypass())) best = cd;
        }
        for (int[] z : zero) out.add(new Candidate(z[0], z[1], Double.NaN, Double.NaN, Double.NaN, false, false));
        for (int l = maxLayer; l < nLayers; l++) {
            for (int j = 0; j < k; j++) out.add(new Candidate(l, j - k, Double.NaN, Double.NaN, Double.NaN, true, false));
        }
        if (best == null) {
            throw new IllegalStateException("no refusal direction candidate passed the filters (induce > 0, KL < " + klBound
                    + ", layer < " + maxLayer + "); configure study.direction.layer and study.direction.position instead");
        }
        RefusalDirection dir = new RefusalDirection(best.layer(), best.position(), diffs.vector(best.layer(), best.position()),
                "selected: lowest bypass score " + String.format("%.3f", best.bypass()) + " (" + metric.kind() + ")");
        return new Selection(dir, out);
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }

    static int[] toArray(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).toArray();
    }
}
