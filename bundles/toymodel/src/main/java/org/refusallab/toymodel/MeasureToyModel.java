package org.refusallab.toymodel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.study.Ablation;
import org.refusallab.api.study.DirectionCandidate;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.RefusalDirection;
import org.refusallab.api.study.RefusalScore;
import org.refusallab.api.study.Study;
import org.refusallab.engine.Engine;
import org.refusallab.engine.GemmaModel;
import org.refusallab.platform.StudyConfig;
import org.refusallab.study.internal.InProcessSweep;
import org.refusallab.study.internal.StudyComponent;
import org.refusallab.testkit.lab.TestContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Measures what issue #10 asks of a toy model folder, with the study's own code: held-out refusal rates by group,
 * the seed's pairs, the refusal direction selection as prior work does it (every candidate's bypass / induce / KL),
 * ablation and addition of the selected direction in generation, the selected direction's largest |cosine| with the
 * unembedding rows, and the seed's head classes in the middle layers.
 */
@Command(name = "measure-toy-model", mixinStandardHelpOptions = true, description = "Measure a toy Gemma model folder.")
public final class MeasureToyModel implements Callable<Integer> {

    @Option(names = "--model", description = "model folder (default: ${DEFAULT-VALUE})")
    Path modelDir = Path.of("models/toy-gemma");

    @Option(names = "--seed", description = "corpus seed (default: ${DEFAULT-VALUE})")
    long seed = ToyCorpus.DEFAULT_SEED;

    @Option(names = "--selection-size", description = "harmful and harmless prompts each for scoring candidates (default: ${DEFAULT-VALUE})")
    int selectionSize = 32;

    @Option(names = "--kl-bound", description = "prior work's KL bound (default: ${DEFAULT-VALUE})")
    double klBound = 0.1;

    @Option(names = "--config", description = "the study's configuration folder (default: ${DEFAULT-VALUE})")
    Path configDir = Path.of("runtime-config");

    @Option(names = "--skip-rates", description = "skip the baseline refusal rates")
    boolean skipRates;

    static final int BATCH = 64;

    @Override
    public Integer call() {
        Engine.pinNd4jClassLoader();
        ToyCorpus corpus = ToyCorpus.generate(seed);
        long start = System.nanoTime();
        if (!skipRates) {
            System.out.println("held-out refusal rates (greedy, 12 new tokens, the seed's substrings):");
            System.out.println(TrainToyModel.evaluate(modelDir, corpus).summary());
            System.out.printf("(%.0f s)%n", (System.nanoTime() - start) / 1e9);
        }
        try (GemmaModel model = Engine.load(modelDir, null)) {
            // the study's own code, as an analysis sees it (the in-process sweep, one run's shared results)
            Map<String, String> params = studyParameters(klBound);
            Study study = new StudyComponent(new InProcessSweep(model)).open(TestContext.of("measure-toy-model", model, configDir, params));
            try {
                study.direction();
            } catch (IllegalStateException e) {
                // no candidate passed prior work's filters: say so, then score every candidate without the KL bound
                System.out.println("direction selection: " + e.getMessage());
                System.out.println("(measuring again without a KL bound, to show every candidate and the best one)");
                study = new StudyComponent(new InProcessSweep(model)).open(TestContext.of("measure-toy-model", model, configDir,
                        studyParameters(Double.POSITIVE_INFINITY)));
            }
            direction(study, corpus);
            System.out.printf("(%.0f s)%n", (System.nanoTime() - start) / 1e9);
            headClasses(study);
        }
        System.out.printf("measured in %.0f s%n", (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /**
     * The refusal direction as the study selects it (prior work's rule, bound {@code --kl-bound}, candidates scored
     * on {@code --selection-size} prompts of each kind), every candidate's scores, ablation and addition of the
     * selected direction on every held-out instruction, and its largest |cosine| with an unembedding row.
     */
    private void direction(Study study, ToyCorpus corpus) {
        HookedModel model = study.model();
        var tok = model.tokenizer();
        RefusalDirection dir = study.direction();
        int underKl = 0, inducing = 0, both = 0;
        System.out.println("candidates (layer, position, bypass, induce, KL):");
        for (DirectionCandidate c : study.directionCandidates()) {
            if (c.prunedLayer() || Double.isNaN(c.bypass())) continue;
            boolean kl = c.kl() < klBound, induce = c.induce() > 0;
            if (kl) underKl++;
            if (induce) inducing++;
            if (kl && induce) both++;
            System.out.printf("  L%-2d %d  bypass %7.3f  induce %7.3f  KL %.4f%s%n", c.layer(), c.position(), c.bypass(), c.induce(), c.kl(),
                    kl && induce ? "  passes" : "");
        }
        System.out.printf("candidates: %d under KL %.2f, %d induce refusal, %d both%n", underKl, klBound, inducing, both);
        System.out.printf("selected: L%d position %d, %s%n", dir.layer(), dir.position(), dir.source());

        List<String> harmfulEval = corpus.harmfulEval(), harmlessEval = corpus.harmlessEval();
        RefusalScore score = RefusalScore.seed();
        int ablated = refused(model, harmfulEval, Ablation.directional(study.nLayers(), dir.values()), score);
        System.out.printf("direction ablated: harmful held-out refused %.1f%% (%d/%d)%n", 100.0 * ablated / harmfulEval.size(), ablated, harmfulEval.size());
        int added = refused(model, harmlessEval, List.of(Ablation.addition(dir.layer(), dir.values(), 1f)), score);
        System.out.printf("direction added at L%d: harmless held-out refused %.1f%% (%d/%d)%n", dir.layer(), 100.0 * added / harmlessEval.size(), added, harmlessEval.size());

        // cosine of the direction with every row of W_U [d_model, vocab] (the raw tied embedding)
        Tensor wU = model.unembedMatrix();
        float[] unit = dir.unit();
        int dModel = unit.length, vocab = wU.data().length / dModel, best = 0;
        double[] cos = new double[vocab];
        for (int v = 0; v < vocab; v++) {
            double dot = 0, norm = 0;
            for (int d = 0; d < dModel; d++) {
                double w = wU.data()[d * vocab + v];
                dot += w * unit[d];
                norm += w * w;
            }
            cos[v] = dot / Math.sqrt(norm);
            if (Math.abs(cos[v]) > Math.abs(cos[best])) best = v;
        }
        System.out.printf("max |cos| of the direction with an unembedding row: %.3f (token '%s'); cos with 'I': %.3f%n",
                Math.abs(cos[best]), tok.tokenString(best), cos[tok.tokenId("I")]);
    }

    static int refused(HookedModel model, List<String> instructions, List<Intervention> iv, RefusalScore score) {
        int refused = 0;
        for (int start = 0; start < instructions.size(); start += BATCH) {
            List<int[]> batch = new ArrayList<>();
            for (String s : instructions.subList(start, Math.min(instructions.size(), start + BATCH))) batch.add(model.tokenizer().encodeChat(s));
            for (int[] completion : model.generate(new GenerationRequest(batch, 12, iv))) {
                if (score.isRefusal(model.tokenizer().decode(completion, true))) refused++;
            }
        }
        return refused;
    }

    /** The study's head classes in the middle layers (the head-classes analysis's numbers), counted per class. */
    private static void headClasses(Study study) {
        HeadClasses hc = study.headClasses();
        System.out.printf("head classes in L%d-L%d on %d prompts (%s, threshold %.2f, diagonal %s):%n", hc.fromLayer(), hc.toLayer() - 1,
                hc.promptCount(), hc.prompts(), hc.threshold(), hc.diagonalReading());
        for (int l = hc.fromLayer(); l < hc.toLayer(); l++) {
            StringBuilder line = new StringBuilder(String.format("  L%-2d", l));
            for (int h = 0; h < hc.nHeads(); h++) {
                int i = l - hc.fromLayer();
                line.append(String.format(" H%d %s(%.2f/%.2f/%.2f)", h, hc.kind(l, h).name().toLowerCase(Locale.ROOT),
                        hc.direct()[i][h], hc.diagonal()[i][h], hc.bos()[i][h]));
            }
            System.out.println(line);
        }
        StringBuilder counts = new StringBuilder();
        for (HeadClasses.Kind k : HeadClasses.Kind.values()) counts.append(", ").append(hc.heads(k).size()).append(' ').append(k.name().toLowerCase(Locale.ROOT));
        System.out.printf("head classes L%d-L%d: %s%n", hc.fromLayer(), hc.toLayer() - 1, counts.substring(2));
    }

    /** study.json's parameters as the platform gives them to analyses (StudyConfig's dotted keys), with this tool's overrides. */
    Map<String, String> studyParameters(double bound) {
        Map<String, String> out = new TreeMap<>(StudyConfig.load(configDir.resolve("study.json")).parameters());
        out.put("study.direction.file", "");
        out.put("study.direction.save", "false");
        out.put("study.direction.klBound", Double.toString(bound));
        out.put("study.direction.selectionLimit", Integer.toString(selectionSize));
        return out;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new MeasureToyModel()).execute(args));
    }
}
