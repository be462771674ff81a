package org.refusallab.toymodel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.engine.Engine;
import org.refusallab.engine.GemmaModel;
import org.refusallab.study.Batches;
import org.refusallab.study.DirectionFinder;
import org.refusallab.study.Interventions;
import org.refusallab.study.PairTokens;
import org.refusallab.study.PromptPair;
import org.refusallab.study.RefusalMetric;
import org.refusallab.study.RefusalScore;
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

    @Option(names = "--skip-rates", description = "skip the baseline refusal rates")
    boolean skipRates;

    /** The seed's middle layers for head classes: L6-L12 (6 x 8 = 48 heads on gemma-2b-it). */
    static final int MIDDLE_FROM = 6, MIDDLE_TO = 12;
    /** The seed's threshold for direct and diagonal scores. */
    static final double CLASS_THRESHOLD = 0.2;
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
            direction(model, corpus);
            System.out.printf("(%.0f s)%n", (System.nanoTime() - start) / 1e9);
            headClasses(model, corpus);
        }
        System.out.printf("measured in %.0f s%n", (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private void direction(HookedModel model, ToyCorpus corpus) {
        var tok = model.tokenizer();
        int nLayers = model.info().nLayers();
        Batches batches = new Batches(model, BATCH, () -> { });
        List<int[]> harmful = corpus.harmfulDirectionTrain().stream().map(tok::encodeChat).toList();
        List<int[]> harmless = corpus.harmlessDirectionTrain().stream().map(tok::encodeChat).toList();
        int k = postInstructionLength(tok);
        DirectionFinder.MeanDifferences diffs = DirectionFinder.meanDifferences(batches, nLayers, harmful, harmless, k);
        RefusalMetric metric = new RefusalMetric(RefusalMetric.Kind.LOG_ODDS, tok.tokenId("I"));
        DirectionFinder.Selection sel;
        try {
            sel = DirectionFinder.select(batches, diffs, harmful.subList(0, selectionSize), harmless.subList(0, selectionSize),
                    metric, 0.2, klBound);
        } catch (IllegalStateException e) {
            System.out.println("direction selection: " + e.getMessage());
            sel = DirectionFinder.select(batches, diffs, harmful.subList(0, selectionSize), harmless.subList(0, selectionSize),
                    metric, 0.2, Double.POSITIVE_INFINITY);
            System.out.println("(falling back to no KL bound to measure the best candidate anyway)");
        }
        int underKl = 0, inducing = 0, both = 0;
        System.out.println("candidates (layer, position, bypass, induce, KL):");
        for (DirectionFinder.Candidate c : sel.candidates()) {
            if (c.prunedLayer() || Double.isNaN(c.bypass())) continue;
            boolean kl = c.kl() < klBound, induce = c.induce() > 0;
            if (kl) underKl++;
            if (induce) inducing++;
            if (kl && induce) both++;
            System.out.printf("  L%-2d %d  bypass %7.3f  induce %7.3f  KL %.4f%s%n", c.layer(), c.position(), c.bypass(), c.induce(), c.kl(),
                    kl && induce ? "  passes" : "");
        }
        System.out.printf("candidates: %d under KL %.2f, %d induce refusal, %d both%n", underKl, klBound, inducing, both);
        var dir = sel.direction();
        System.out.printf("selected: L%d position %d, %s%n", dir.layer(), dir.position(), dir.source());

        List<String> harmfulEval = corpus.harmfulEval(), harmlessEval = corpus.harmlessEval();
        RefusalScore score = RefusalScore.seed();
        int ablated = refused(model, harmfulEval, Interventions.directionalAblation(nLayers, dir.values(), null), score);
        System.out.printf("direction ablated: harmful held-out refused %.1f%% (%d/%d)%n", 100.0 * ablated / harmfulEval.size(), ablated, harmfulEval.size());
        int added = refused(model, harmlessEval, List.of(Interventions.activationAddition(dir.layer(), dir.values(), 1f, null)), score);
        System.out.printf("direction added at L%d: harmless held-out refused %.1f%% (%d/%d)%n", dir.layer(), 100.0 * added / harmlessEval.size(), added, harmlessEval.size());

        float[] cos = model.unembeddingCosines(dir.values());
        int best = 0;
        for (int i = 0; i < cos.length; i++) if (Math.abs(cos[i]) > Math.abs(cos[best])) best = i;
        System.out.printf("max |cos| of the direction with an unembedding row: %.3f (token '%s'); cos with 'I': %.3f%n",
                Math.abs(cos[best]), tok.tokenString(best), cos[tok.tokenId("I")]);
    }

    /** Tokens after the instruction in the chat format: end_of_turn, newline, start_of_turn, model, newline. */
    static int postInstructionLength(org.refusallab.api.model.TextTokenizer tok) {
        return tok.encodeChat("x").length - tok.encode("<bos><start_of_turn>user\nx").length;
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

    /**
     * The seed's head classes on the held-out pairs and the seed's pairs (both instructions of each): direct score =
     * attention from the last token to the subject token, diagonal score = mean attention of a token to the previous
     * token, BOS score = mean attention to the first token; direct or diagonal when the score is at least 0.2,
     * BOS when at least half of the attention goes to BOS, other otherwise.
     */
    private void headClasses(HookedModel model, ToyCorpus corpus) {
        List<PromptPair> pairs = new ArrayList<>();
        for (ToyCorpus.Pair p : corpus.seedPairs()) pairs.add(new PromptPair(p.harmful(), p.harmless()));
        for (ToyCorpus.Pair p : corpus.heldOutPairs()) pairs.add(new PromptPair(p.harmful(), p.harmless()));
        List<PairTokens> tokens = PairTokens.of(model.tokenizer(), pairs);
        List<int[]> rows = new ArrayList<>();
        List<Integer> subjects = new ArrayList<>();
        for (PairTokens t : tokens) {
            rows.add(t.harmful());
            rows.add(t.harmless());
            subjects.add(t.subjectFromEnd());
            subjects.add(t.subjectFromEnd());
        }
        int heads = model.info().nHeads();
        int to = Math.min(MIDDLE_TO, model.info().nLayers());
        double[][] direct = new double[to][heads], diagonal = new double[to][heads], bos = new double[to][heads];
        Set<String> hooks = new java.util.HashSet<>();
        for (int l = MIDDLE_FROM; l < to; l++) hooks.add("blocks." + l + ".attn.hook_pattern");
        Batches batches = new Batches(model, BATCH, () -> { });
        batches.forEach(rows, hooks, c -> List.of(), (chunk, r) -> {
            for (int l = MIDDLE_FROM; l < to; l++) {
                Tensor p = r.hook("blocks." + l + ".attn.hook_pattern"); // [batch, head, query, key]
                for (int i = 0; i < chunk.size(); i++) {
                    int pad = chunk.padding(i), len = chunk.paddedLength();
                    int subject = len + subjects.get(chunk.start() + i);
                    for (int h = 0; h < heads; h++) {
                        direct[l][h] += p.data()[p.offset(i, h, len - 1, subject)] / rows.size();
                        double prev = 0, first = 0;
                        for (int q = pad + 1; q < len; q++) {
                            prev += p.data()[p.offset(i, h, q, q - 1)];
                            first += p.data()[p.offset(i, h, q, pad)];
                        }
                        diagonal[l][h] += prev / (len - pad - 1) / rows.size();
                        bos[l][h] += first / (len - pad - 1) / rows.size();
                    }
                }
            }
        });
        int nDirect = 0, nDiagonal = 0, nBos = 0, nOther = 0;
        System.out.printf("head classes in L%d-L%d on %d prompts (direct, diagonal = previous token, BOS):%n", MIDDLE_FROM, to, rows.size());
        for (int l = MIDDLE_FROM; l < to; l++) {
            StringBuilder line = new StringBuilder(String.format("  L%-2d", l));
            for (int h = 0; h < heads; h++) {
                String cls;
                if (direct[l][h] >= CLASS_THRESHOLD) { cls = "direct"; nDirect++; }
                else if (diagonal[l][h] >= CLASS_THRESHOLD) { cls = "diag"; nDiagonal++; }
                else if (bos[l][h] >= 0.5) { cls = "BOS"; nBos++; }
                else { cls = "other"; nOther++; }
                line.append(String.format(" H%d %s(%.2f/%.2f/%.2f)", h, cls, direct[l][h], diagonal[l][h], bos[l][h]));
            }
            System.out.println(line);
        }
        System.out.printf("head classes L%d-L%d: %d direct, %d diagonal, %d BOS, %d other%n", MIDDLE_FROM, to, nDirect, nDiagonal, nBos, nOther);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new MeasureToyModel()).execute(args));
    }
}
