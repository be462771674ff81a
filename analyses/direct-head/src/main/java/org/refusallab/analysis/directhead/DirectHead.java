package org.refusallab.analysis.directhead;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
import org.refusallab.api.analysis.Describe;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Measure;
import org.refusallab.api.result.Rule;
import org.refusallab.api.result.Provenance;
import org.refusallab.api.result.Table;
import org.refusallab.api.study.HeadClassParameters;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.HeadClasses.Head;
import org.refusallab.api.study.HeadClasses.Kind;
import org.refusallab.api.study.PairTokens;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.Stats;
import org.refusallab.api.study.Study;
import org.refusallab.api.study.StudyParameters;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * The seed's "Direct heads write the refusal direction": for every classified middle-layer head, the component of
 * its {@code attn.hook_result} at the last position along the unit refusal direction, harmful minus harmless per
 * pair; direct heads against all other classified heads with Welch's t-test and a permutation test; the same for
 * seeded random unit directions. One batched sweep: every direction's score is a dot product of the same
 * per-head differences.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = DirectHead.ID, title = "Do direct heads write the refusal direction?", order = 85,
        parameters = {DirectHead.Params.class, HeadClassParameters.class, StudyParameters.class},
        assumes = Assumption.HEAD_RESULTS_SUM_TO_ATTN_OUT)
public final class DirectHead implements Analysis {

    public static final String ID = "direct-head";

    @interface Params {
        @Describe("random unit directions compared with the refusal direction (>= 100 for the share)")
        int randomDirections() default 200;

        @Describe("seed of the random directions and of a sampled permutation test")
        int seed() default 20240601;

        @Describe("the permutation test is exact when there are at most this many splits, else this many sampled splits")
        int permutations() default 10000;

        @Describe("significance level of both tests")
        double alpha() default 0.05;

        @Describe("add the held-out pairs (study.heldOutPairs) to the seed's pairs")
        boolean includeHeldOut() default false;

        @Describe("OV circuit: singular input directions listed per direct head")
        int ovTop() default 3;

        @Describe("OV circuit: tokens listed per input direction (closest embeddings; 0 = none)")
        int ovTokens() default 5;

        @Describe("the heads direct heads are compared with: middle (the other classified heads, the seed's) or all (every other head of every layer)")
        String others() default "middle";
    }

    private final StudyService studies;

    @Activate
    public DirectHead(@Reference StudyService studies) {
        this.studies = studies;
    }

    /** One direction's comparison of direct heads with the other classified heads. */
    record Comparison(double[] direct, double[] other, double meanDifference, double cohensD, GroupTests.Welch welch, GroupTests.Permutation permutation) {
        /** Significant by one test: Welch's when defined, and the permutation test's, each at alpha. */
        boolean welchSignificant(double alpha) {
            return welch.defined() && welch.p() < alpha;
        }

        boolean permutationSignificant(double alpha) {
            return permutation.p() < alpha;
        }
    }

    /** The per-head, per-pair differences (harmful - harmless) of attn.hook_result at the last position: [head][pair][d_model]. */
    /** Per head and pair, harmful - harmless at the last position: result [head][pair][d_model] and hook_z [head][pair][d_head]. */
    record Differences(float[][][] result, float[][][] z) { }

    static Differences differences(Study study, int fromLayer, int toLayer, List<Head> heads, List<PairTokens> pairs) {
        List<Row> rows = new ArrayList<>();
        for (PairTokens pt : pairs) {
            for (int[] t : List.of(pt.harmful(), pt.harmless())) {
                Row r = Row.of(t);
                for (int l = fromLayer; l < toLayer; l++) {
                    r = r.reading(ReadOut.activation(Hooks.attnResult(l), -1)).reading(ReadOut.activation(Hooks.attnZ(l), -1));
                }
                rows.add(r);
            }
        }
        List<RowResult> res = study.sweep(rows);
        int d = study.model().info().dModel(), dh = study.model().info().dHead();
        float[][][] out = new float[heads.size()][pairs.size()][d], zs = new float[heads.size()][pairs.size()][dh];
        for (int p = 0; p < pairs.size(); p++) {
            for (int i = 0; i < heads.size(); i++) {
                Head h = heads.get(i);
                int j = 2 * (h.layer() - fromLayer);
                Tensor a = res.get(2 * p).activation(j), b = res.get(2 * p + 1).activation(j);
                float[] x = a.row(0, h.head()), y = b.row(0, h.head());  // [1, head, d_model] at the last position
                for (int k = 0; k < d; k++) out[i][p][k] = x[k] - y[k];
                float[] za = res.get(2 * p).activation(j + 1).row(0, h.head()), zb = res.get(2 * p + 1).activation(j + 1).row(0, h.head());
                for (int k = 0; k < dh; k++) zs[i][p][k] = za[k] - zb[k];
            }
        }
        return new Differences(out, zs);
    }

    /** Mean over pairs of each head's difference dotted with a unit vector. */
    static double[] headScores(float[][][] diffs, float[] unit) {
        double[] out = new double[diffs.length];
        for (int i = 0; i < diffs.length; i++) {
            for (float[] pair : diffs[i]) out[i] += Stats.dot(pair, unit) / diffs[i].length;
        }
        return out;
    }

    static Comparison compare(double[] scores, boolean[] isDirect, int permutations, long seed) {
        int nd = 0;
        for (boolean b : isDirect) if (b) nd++;
        double[] direct = new double[nd], other = new double[scores.length - nd];
        for (int i = 0, a = 0, b = 0; i < scores.length; i++) {
            if (isDirect[i]) direct[a++] = scores[i]; else other[b++] = scores[i];
        }
        if (nd == 0 || other.length == 0) return new Comparison(direct, other, Double.NaN, Double.NaN, GroupTests.welch(direct, other), new GroupTests.Permutation(Double.NaN, true, 0));
        return new Comparison(direct, other, GroupTests.mean(direct) - GroupTests.mean(other), GroupTests.cohensD(direct, other),
                GroupTests.welch(direct, other), GroupTests.permutation(direct, other, permutations, seed));
    }

    static float[] randomUnit(Random random, int d) {
        float[] v = new float[d];
        double n = 0;
        for (int i = 0; i < d; i++) { double g = random.nextGaussian(); v[i] = (float) g; n += g * g; }
        n = Math.sqrt(n);
        for (int i = 0; i < d; i++) v[i] /= n;
        return v;
    }

    @Override
    public AnalysisResult run(AnalysisContext context) {
        Params p = context.parameters(Params.class);
        if (p.randomDirections() < 1) throw new IllegalArgumentException("analysis " + ID + ": parameter randomDirections = " + p.randomDirections() + " is not >= 1");
        if (p.permutations() < 1) throw new IllegalArgumentException("analysis " + ID + ": parameter permutations = " + p.permutations() + " is not >= 1");
        if (!(p.alpha() > 0 && p.alpha() < 1)) throw new IllegalArgumentException("analysis " + ID + ": parameter alpha = " + p.alpha() + " is not in (0, 1)");
        Study study = studies.open(context);
        HeadClasses hc = study.headClasses();
        List<PromptPair> pairList = study.pairs(p.includeHeldOut());
        List<PairTokens> pairs = PairTokens.of(study.tokenizer(), pairList);
        String others = p.others().trim();
        if (!others.equals("middle") && !others.equals("all")) throw new IllegalArgumentException("analysis " + ID + ": parameter others = '" + p.others() + "' is not middle or all");
        int fromLayer = others.equals("all") ? 0 : hc.fromLayer(), toLayer = others.equals("all") ? study.nLayers() : hc.toLayer();
        List<Head> heads = new ArrayList<>();
        for (int l = fromLayer; l < toLayer; l++) for (int h = 0; h < hc.nHeads(); h++) heads.add(new Head(l, h));
        boolean[] isDirect = new boolean[heads.size()];
        for (int i = 0; i < heads.size(); i++) isDirect[i] = hc.covers(heads.get(i).layer()) && hc.kind(heads.get(i).layer(), heads.get(i).head()) == Kind.DIRECT;

        Differences all = differences(study, fromLayer, toLayer, heads, pairs);
        float[][][] diffs = all.result();
        float[] unit = study.direction().unit();
        double[] scores = headScores(diffs, unit);
        Comparison refusal = compare(scores, isDirect, p.permutations(), p.seed());
        Random random = new Random(p.seed());
        int d = unit.length, n = p.randomDirections();
        boolean comparable = refusal.direct().length > 0 && refusal.other().length > 0;
        double[] randomDiffs = new double[n];
        int welchSig = 0, permSig = 0, welchDefined = 0, below = 0;
        for (int r = 0; comparable && r < n; r++) {
            context.checkCancelled();
            Comparison c = compare(headScores(diffs, randomUnit(random, d)), isDirect, p.permutations(), p.seed() + r + 1);
            randomDiffs[r] = c.meanDifference();
            if (c.welch().defined()) welchDefined++;
            if (c.welchSignificant(p.alpha())) welchSig++;
            if (c.permutationSignificant(p.alpha())) permSig++;
            if (randomDiffs[r] < refusal.meanDifference()) below++;
        }
        RandomSummary rs = comparable ? new RandomSummary(n, welchSig / (double) n, permSig / (double) n, welchDefined, 100.0 * below / n)
                : new RandomSummary(n, Double.NaN, Double.NaN, 0, Double.NaN);

        List<String> read = new ArrayList<>();
        for (int l = fromLayer; l < toLayer; l++) read.add(Hooks.attnResult(l));
        Provenance prov = Provenance.builder().read(read).direction(study.direction().provenance()).build();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < heads.size(); i++) labels.add(heads.get(i).label() + (isDirect[i] ? " (direct)" : ""));
        double[] directBars = new double[scores.length], otherBars = new double[scores.length];
        for (int i = 0; i < scores.length; i++) { if (isDirect[i]) directBars[i] = scores[i]; else otherBars[i] = scores[i]; }
        List<Figure> figs = new ArrayList<>();
        figs.add(Figure.bar("head-refusal-component").title("Refusal component written by each head (harmful - harmless)")
                .x("head L" + fromLayer + "-L" + toLayer, labels).y("result . r/|r| at the last position", "residual units")
                .series("direct heads", directBars).series("other heads", otherBars)
                .caption("attn.hook_result of each head at the last position dotted with the unit refusal direction, harmful minus harmless, mean over "
                        + pairs.size() + " pairs. Direct heads from head-classes (" + hc.heads(Kind.DIRECT).size() + " of the " + hc.heads().size()
                        + " heads of " + hc.rangeLabel() + "); compared with the " + (others.equals("all") ? "other heads of every layer" : "other heads of " + hc.rangeLabel()) + ".")
                .provenance(prov).build());
        if (comparable) figs.add(Figure.histogram("random-directions").title("Direct minus other heads' mean, random unit directions")
                .x("mean(direct) - mean(other) along a random unit direction").y("directions", "count").series("random directions", randomDiffs)
                .caption(n + " seeded random unit directions (seed " + p.seed() + "); the refusal direction's value is " + Stats.fmt(refusal.meanDifference())
                        + ", above " + Stats.fmt(rs.percentile()) + " % of them.")
                .provenance(prov).build());

        Table.Builder perHead = Table.of("head-scores").title("Per head: refusal component, harmful - harmless")
                .columns(headColumns(pairs));
        for (int i = 0; i < heads.size(); i++) {
            Head h = heads.get(i);
            String kind = hc.covers(h.layer()) ? hc.kind(h.layer(), h.head()).name().toLowerCase() : "(not classified)";
            List<String> row = new ArrayList<>(List.of(h.label(), kind, Stats.fmt(scores[i])));
            for (float[] pair : diffs[i]) row.add(Stats.fmt(Stats.dot(pair, unit)));
            perHead.row(row);
        }
        Table tests = Table.of("direct-vs-other").title("Direct heads vs the other heads")
                .columns("direction", "direct heads", "other heads", "mean(direct) - mean(other)", "Cohen's d", "Welch t", "Welch df", "Welch p (two-sided)",
                        "permutation p (two-sided)", "permutation")
                .row("refusal direction", Integer.toString(refusal.direct().length), Integer.toString(refusal.other().length), text(refusal.meanDifference()),
                        text(refusal.cohensD()), text(refusal.welch().t()), text(refusal.welch().df()), text(refusal.welch().p()), text(refusal.permutation().p()),
                        (refusal.permutation().exact() ? "exact, " : "sampled, ") + refusal.permutation().splits() + " splits")
                .caption("Welch's t-test needs two heads in each group; the permutation test's smallest possible p is 1 / (number of splits).")
                .provenance(prov).build();
        Table randomTable = Table.of("random-directions-summary").title("Random unit directions")
                .columns("directions", "share significant (Welch, p < " + Stats.fmt(p.alpha()) + ")", "share significant (permutation)",
                        "directions where Welch is defined", "refusal direction's percentile")
                .row(Integer.toString(n), text(rs.welchShare()), text(rs.permutationShare()), Integer.toString(rs.welchDefined()), text(rs.percentile()))
                .caption(comparable ? "" : "Not computed: there are no " + (refusal.direct().length == 0 ? "direct heads" : "other heads") + " to compare with (see parameter others).")
                .provenance(prov).build();
        List<Table> tables = new ArrayList<>(List.of(perHead.build(), tests, randomTable));
        String ovNote = ovCircuits(study, heads, isDirect, all, unit, p, figs, tables);
        return new AnalysisResult(ovNote + "Refusal-direction component of each head's output (harmful - harmless), the " + refusal.direct().length
                + " direct heads against the other " + refusal.other().length + " heads (" + (others.equals("all") ? "every layer" : hc.rangeLabel())
                + "), and the same for " + n + " random directions.",
                figs, tables, findings(refusal, rs, p.alpha()));
    }

    /**
     * Beyond the seed: each direct head's OV circuit in singular directions, ranked by how strongly each maps onto
     * the refusal direction (|gain|), and how much of the head's refusal output (harmful - harmless, mean over
     * pairs) the top directions explain. Adds a figure and a table; returns a note for the summary ("" if done).
     */
    static String ovCircuits(Study study, List<Head> heads, boolean[] isDirect, Differences diffs, float[] unit, Params p,
            List<Figure> figs, List<Table> tables) {
        if (p.ovTop() < 1) return "";
        var model = study.model();
        int nHeads = model.info().nHeads(), group = nHeads / model.info().nKvHeads();
        long vocabSize = (long) model.info().vocabSize() * model.info().dModel();
        int tokens = vocabSize <= 100_000_000L ? Math.max(0, p.ovTokens()) : 0;  // W_E of a large vocabulary is too big to scan here
        float[][] embed = null;
        Table.Builder table = Table.of("ov-directions").title("OV circuit of the direct heads: input directions written onto the refusal direction")
                .columns("head", "rank", "singular value", "cos(output direction, r)", "gain onto r", "contribution (harmful - harmless)",
                        "share of the head's refusal output", "cumulative share", "closest token embeddings");
        Figure.Builder fig = Figure.line("ov-explained").title("Share of each direct head's refusal output explained by its top OV directions");
        int dh = model.info().dHead(), added = 0;
        List<String> ks = new ArrayList<>();
        for (int k = 1; k <= dh; k++) ks.add(Integer.toString(k));
        fig.x("top k singular directions (by |gain onto r|)", ks).y("share of (result . r/|r|) explained", "fraction");
        List<String> read = new ArrayList<>();
        for (int i = 0; i < heads.size(); i++) {
            if (!isDirect[i]) continue;
            Head h = heads.get(i);
            OvCircuit ov;
            try {
                ov = new OvCircuit(model.attnValueMatrix(h.layer()), h.head() / group, model.attnOutMatrix(h.layer()), h.head(), unit);
            } catch (UnsupportedOperationException e) {
                return "(OV circuit not computed: " + e.getMessage() + ") ";
            }
            read.add(org.refusallab.api.model.Hooks.attnZ(h.layer()));
            int k = ov.gain.length;
            double[] contribution = new double[k];
            for (float[] z : diffs.z()[i]) {
                double[] c = ov.coefficients(z);
                for (int j = 0; j < k; j++) contribution[j] += c[j] * ov.gain[j] / diffs.z()[i].length;
            }
            double total = 0;
            for (double c : contribution) total += c;
            Integer[] order = new Integer[k];
            for (int j = 0; j < k; j++) order[j] = j;
            java.util.Arrays.sort(order, (a, b) -> Double.compare(Math.abs(ov.gain[b]), Math.abs(ov.gain[a])));
            double[] cumulative = new double[dh];
            double run = 0;
            for (int j = 0; j < dh; j++) {
                if (j < k) run += contribution[order[j]];
                cumulative[j] = total == 0 ? 0 : run / total;
            }
            fig.series(h.label(), cumulative);
            if (tokens > 0 && embed == null) embed = rows(model.embedMatrix());
            for (int j = 0; j < Math.min(p.ovTop(), k); j++) {
                int o = order[j];
                double cosOut = ov.singular[o] == 0 ? 0 : ov.gain[o] / ov.singular[o];
                table.row(h.label(), Integer.toString(j + 1), Stats.fmt(ov.singular[o]), Stats.fmt(cosOut), Stats.fmt(ov.gain[o]), Stats.fmt(contribution[o]),
                        text(total == 0 ? Double.NaN : contribution[o] / total), text(total == 0 ? Double.NaN : cumulative[j]),
                        tokens == 0 ? "(not computed)" : closestTokens(study, embed, ov.input[o], Math.signum(ov.gain[o]), tokens));
            }
            added++;
        }
        if (added == 0) return "";
        Provenance prov = Provenance.builder().read(read).direction(study.direction().provenance()).build();
        figs.add(fig.caption("Each direct head's OV matrix W_V W_O in singular directions U_i -> s_i V_i; gain_i = s_i (V_i . r/|r|). The head's output "
                        + "along r at the last position is exactly sum_i (xbar . U_i) gain_i, xbar the pattern-weighted ln1 input (read from hook_z); the "
                        + "curve adds the directions' harmful - harmless contributions (mean over pairs) in order of |gain| and divides by the total.")
                .provenance(prov).build());
        tables.add(table.caption("Input directions U_i are in the ln1-normalised residual space; tokens: the largest cosine of sign(gain) U_i with the "
                + "token embeddings W_E (before Gemma's sqrt(d_model) scaling).").provenance(prov).build());
        return "";
    }

    private static float[][] rows(Tensor t) {
        float[][] out = new float[t.dim(0)][];
        for (int i = 0; i < out.length; i++) out[i] = t.row(i);
        return out;
    }

    private static String closestTokens(Study study, float[][] embed, double[] direction, double sign, int n) {
        double[] best = new double[n];
        int[] ids = new int[n];
        java.util.Arrays.fill(best, Double.NEGATIVE_INFINITY);
        for (int t = 0; t < embed.length; t++) {
            double dot = 0, norm = 0;
            for (int k = 0; k < direction.length; k++) { dot += embed[t][k] * direction[k]; norm += embed[t][k] * embed[t][k]; }
            double cos = norm == 0 ? 0 : sign * dot / Math.sqrt(norm);
            for (int j = 0; j < n; j++) {
                if (cos > best[j]) {
                    System.arraycopy(best, j, best, j + 1, n - j - 1);
                    System.arraycopy(ids, j, ids, j + 1, n - j - 1);
                    best[j] = cos;
                    ids[j] = t;
                    break;
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (int j = 0; j < n; j++) out.add("'" + study.tokenizer().tokenString(ids[j]).replace("\n", "\\n") + "' " + Stats.fmt(best[j]));
        return String.join(", ", out);
    }

    private static String[] headColumns(List<PairTokens> pairs) {
        List<String> cols = new ArrayList<>(List.of("head", "class", "mean over pairs"));
        for (PairTokens pt : pairs) cols.add(pt.pair().harmful() + " - " + pt.pair().harmless());
        return cols.toArray(String[]::new);
    }

    static String text(double x) {
        return Double.isNaN(x) ? "n/a" : Stats.fmt(x);
    }

    /** What the random directions gave: shares significant by each test, and the refusal direction's percentile (%). */
    record RandomSummary(int directions, double welchShare, double permutationShare, int welchDefined, double percentile) { }

    /** One-sided reading of a two-sided p-value: p when the difference is positive (the claimed sign), else 1. */
    static double signed(double p, double meanDifference) {
        return meanDifference > 0 ? p : 1;
    }

    /** "Significantly more": each defined test's p (1 when the difference is not positive) below alpha. */
    static Rule significant(double alpha) {
        return Rule.below("significantly more = the difference of means is positive and each test's p (Welch's when defined, the permutation "
                + "test's) is below alpha = " + alpha + " (p is read as 1 when the difference is not positive)", alpha);
    }

    static Measure[] refusalMeasures(Comparison c) {
        Measure perm = Measure.of("permutation p", signed(c.permutation().p(), c.meanDifference()),
                (c.permutation().exact() ? "exact, " : "sampled, ") + c.direct().length + " direct vs " + c.other().length + " other heads");
        if (!c.welch().defined()) return new Measure[] {perm};
        return new Measure[] {Measure.of("Welch p", signed(c.welch().p(), c.meanDifference()), "two-sided"), perm};
    }

    /**
     * Verdict for "direct heads write significantly more of the refusal direction": NOT_APPLICABLE without a direct
     * head or another head; AGREES when the difference is positive and every defined test is significant at alpha;
     * PARTLY when only some are; DISAGREES otherwise.
     */
    static Finding.Verdict refusalVerdict(Comparison c, double alpha) {
        if (c.direct().length == 0 || c.other().length == 0) return Finding.Verdict.NOT_APPLICABLE;
        return significant(alpha).judge(List.of(refusalMeasures(c)), false);
    }

    /** "No significant difference with random directions": at most 2 alpha of them significant by either test (chance gives alpha), PARTLY up to 4 alpha. */
    static Rule randomRule(double alpha) {
        return Rule.atMost("no significant difference = at most 2 alpha of the random directions are significant by either test (chance: alpha)", 2 * alpha)
                .partly(4 * alpha);
    }

    static Measure randomMeasure(RandomSummary rs) {
        return Measure.of("share of random directions significant (larger of the two tests)", Math.max(rs.welchShare(), rs.permutationShare()),
                rs.directions() + " seeded random unit directions");
    }

    static Finding.Verdict randomVerdict(RandomSummary rs, double alpha) {
        return randomRule(alpha).judge(randomMeasure(rs));
    }

    /** "The refusal direction stands out": percentile >= 100 (1 - alpha), PARTLY >= 80. */
    static Rule percentileRule(double alpha) {
        return Rule.atLeast("specific = the refusal direction's difference of means is above 100 (1 - alpha) % of the random directions'", 100 * (1 - alpha)).partly(80);
    }

    static Finding.Verdict percentileVerdict(RandomSummary rs, double alpha) {
        return percentileRule(alpha).judge(Measure.of("percentile", rs.percentile(), ""));
    }

    static List<Finding> findings(Comparison c, RandomSummary rs, double alpha) {
        boolean none = c.direct().length == 0 || c.other().length == 0;
        String detail = String.format(java.util.Locale.ROOT, "%d direct vs %d other heads: difference of means %s, Cohen's d %s.",
                c.direct().length, c.other().length, text(c.meanDifference()), text(c.cohensD()));
        return List.of(
                none ? Finding.judge("Direct heads write significantly more of the refusal direction (harmful - harmless) than the other L6-L12 heads.",
                        significant(alpha), false, detail + " Not applicable: no direct head or no other head (no measures).")
                        : Finding.judge("Direct heads write significantly more of the refusal direction (harmful - harmless) than the other L6-L12 heads.",
                        significant(alpha), false, detail, refusalMeasures(c)),
                Finding.judge("With a random direction in place of the refusal direction there is no significant difference.", randomRule(alpha), false,
                        String.format(java.util.Locale.ROOT, "Welch %s, permutation %s at alpha %s.", text(rs.welchShare()), text(rs.permutationShare()), Stats.fmt(alpha)),
                        randomMeasure(rs)),
                none ? Finding.judge("The difference is specific to the refusal direction: direct heads do not just write more of everything.",
                        percentileRule(alpha), false, "Not applicable: no direct head or no other head (no measures).")
                        : Finding.judge("The difference is specific to the refusal direction: direct heads do not just write more of everything.",
                        percentileRule(alpha), false, "", Measure.of("percentile of the refusal direction among the random directions", rs.percentile(), "")));
    }
}
