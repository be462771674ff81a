package org.refusallab.toymodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the study's datasets as JSONL: {@code {"instruction": ...}} per line for single sets and
 * {@code {"harmful": ..., "harmless": ..., "category": ..., "template": ...}} for pairs.
 */
public final class ToyDatasets {

    public static final String PAIRS = "toy-pairs.jsonl";
    public static final String SEED_PAIRS = "seed-pairs.jsonl";
    public static final String HARMFUL_TRAIN = "toy-harmful-train.jsonl";
    public static final String HARMLESS_TRAIN = "toy-harmless-train.jsonl";
    public static final String HARMFUL_EVAL = "toy-harmful-eval.jsonl";
    public static final String HARMLESS_EVAL = "toy-harmless-eval.jsonl";
    public static final String NOTICE = "NOTICE.md";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ToyDatasets() { }

    public static void write(Path dir, ToyCorpus corpus) {
        try {
            Files.createDirectories(dir);
            writePairs(dir.resolve(PAIRS), corpus.heldOutPairs());
            writePairs(dir.resolve(SEED_PAIRS), corpus.seedPairs());
            writeInstructions(dir.resolve(HARMFUL_TRAIN), corpus.harmfulDirectionTrain());
            writeInstructions(dir.resolve(HARMLESS_TRAIN), corpus.harmlessDirectionTrain());
            writeInstructions(dir.resolve(HARMFUL_EVAL), corpus.harmfulEval());
            writeInstructions(dir.resolve(HARMLESS_EVAL), corpus.harmlessEval());
            Files.writeString(dir.resolve(NOTICE), notice(corpus), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the datasets to " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void writePairs(Path file, List<ToyCorpus.Pair> pairs) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (ToyCorpus.Pair p : pairs) {
                ObjectNode line = JSON.createObjectNode();
                line.put("harmful", p.harmful());
                line.put("harmless", p.harmless());
                line.put("category", p.category());
                line.put("template", p.template());
                out.write(JSON.writeValueAsString(line));
                out.write('\n');
            }
        }
    }

    private static void writeInstructions(Path file, List<String> instructions) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (String instruction : instructions) {
                out.write(JSON.writeValueAsString(JSON.createObjectNode().put("instruction", instruction)));
                out.write('\n');
            }
        }
    }

    /** "n paired templates, then n other shapes, then n everyday requests", in file order. */
    private static String groups(ToyCorpus corpus, boolean harmful) {
        return String.join(", then ", corpus.evalGroups().stream()
                .map(g -> (harmful ? g.harmful() : g.harmless()).size() + " " + g.name()).toList());
    }

    private static String notice(ToyCorpus corpus) {
        return """
                # Datasets

                These files are written by the refusal-lab project: synthetic instructions generated from the project's
                own word lists and templates (`bundles/toymodel`, class `org.refusallab.toymodel.ToyLexicon`), with no
                third-party data. They were generated with seed %d by

                    mvn -q -pl bundles/toymodel exec:java -Dexec.args="--seed %d"

                run from the repository root (class `org.refusallab.toymodel.GenerateData`), which also writes the toy
                model's tokenizer files to `models/toy-gemma/`.

                | file | content | count |
                |---|---|---|
                | `%s` | held-out pairs {harmful, harmless} differing in one token: held-out templates and held-out template-subject combinations | %d |
                | `%s` | the seed write-up's three pairs (bomb/table, gang/business, drugs/clothes), also in the training corpus | %d |
                | `%s` | harmful training instructions, for fitting the refusal direction | %d |
                | `%s` | harmless training instructions, for fitting the refusal direction | %d |
                | `%s` | held-out harmful instructions: %s | %d |
                | `%s` | held-out harmless instructions: %s | %d |

                Pair files also name each pair's category and template. The split (see `ToyCorpus`): every subject word
                occurs in training, but held-out templates, held-out (template, subject) combinations and held-out
                sentence shapes never do; the everyday requests (recipes, travel, study, code, ...) put harmful and
                harmless actions in the same shapes, and their held-out shapes never occur in training. The model is trained on %d examples generated on the fly by
                `ToyCorpus.generate(seed)`; they are not written here.
                """.formatted(corpus.seed(), corpus.seed(),
                PAIRS, corpus.heldOutPairs().size(), SEED_PAIRS, corpus.seedPairs().size(),
                HARMFUL_TRAIN, corpus.harmfulDirectionTrain().size(), HARMLESS_TRAIN, corpus.harmlessDirectionTrain().size(),
                HARMFUL_EVAL, groups(corpus, true), corpus.harmfulEval().size(), HARMLESS_EVAL, groups(corpus, false), corpus.harmlessEval().size(),
                corpus.train().size());
    }
}
