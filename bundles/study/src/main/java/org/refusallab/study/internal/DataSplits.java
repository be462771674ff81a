package org.refusallab.study.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.refusallab.api.study.DataSet;
import org.refusallab.api.study.PromptPair;
import org.refusallab.api.study.StudyParameters;

/**
 * The study's four kinds of prompt sets, kept disjoint: the seed pairs (study.pairs), the held-out pairs
 * (study.heldOutPairs), the evaluation instructions (study.eval.*) and the direction's training and selection
 * (validation) instructions (study.direction.harmful / harmless).
 * <ul>
 * <li>Evaluation and direction files skip every line that is a prompt of a seed or held-out pair (the whole held-out
 *     file, not only the first study.heldOutLimit): pairs are what the claims are measured on.</li>
 * <li>The validation split is the last study.direction.selectionLimit lines (after skipping) of each direction
 *     file; the direction is fit on the lines before them (as Arditi et al. keep a separate validation set).</li>
 * <li>Any prompt still in two sets is an error naming the prompt and both sets with their files.</li>
 * </ul>
 * Without direction files the direction is fit and selected on the pairs themselves (not disjoint; said so).
 */
final class DataSplits {

    record Splits(List<PromptPair> pairs, List<PromptPair> heldOut, List<String> evalHarmful, List<String> evalHarmless,
                  List<String> trainHarmful, List<String> trainHarmless, List<String> validationHarmful, List<String> validationHarmless,
                  List<DataSet> sets) { }

    private DataSplits() { }

    static Splits build(StudyParameters p, Function<String, Path> files) {
        String pf = p.pairs().trim();
        List<PromptPair> pairs = pf.isEmpty() ? PromptPair.SEED_PAIRS : PromptSets.readPairs(files.apply(pf));
        String pairSource = pf.isEmpty() ? "built-in (the seed's three pairs)" : pf;
        String hf = p.heldOutPairs().trim();
        List<PromptPair> heldOutFile = hf.isEmpty() ? List.of() : PromptSets.readPairs(files.apply(hf));
        List<PromptPair> heldOut = limit(heldOutFile, p.heldOutLimit(), "study.heldOutLimit");

        Set<String> pairPrompts = new LinkedHashSet<>();
        for (PromptPair pp : pairs) { pairPrompts.add(pp.harmful()); pairPrompts.add(pp.harmless()); }
        for (PromptPair pp : heldOutFile) { pairPrompts.add(pp.harmful()); pairPrompts.add(pp.harmless()); }

        List<DataSet> sets = new ArrayList<>();
        sets.add(new DataSet("seed pairs", pairSource, pairs.size(), "every line (" + pairs.size() + " pairs, " + 2 * pairs.size() + " prompts)"));
        sets.add(new DataSet("held-out pairs", hf.isEmpty() ? "none" : hf, heldOut.size(),
                hf.isEmpty() ? "none configured" : p.heldOutLimit() == 0 ? "every line" : "the first " + heldOut.size() + " of " + heldOutFile.size() + " lines"));

        String ehf = p.eval_harmful().trim(), ehl = p.eval_harmless().trim();
        List<String> evalHarmful = evalSet("evaluation (harmful)", ehf, p.eval_limit(), pairPrompts, files, sets);
        List<String> evalHarmless = evalSet("evaluation (harmless)", ehl, p.eval_limit(), pairPrompts, files, sets);

        String dh = p.direction_harmful().trim(), dl = p.direction_harmless().trim();
        if (dh.isEmpty() != dl.isEmpty()) throw new IllegalArgumentException("set both study.direction.harmful and study.direction.harmless, or neither");
        int nVal = p.direction_selectionLimit();
        if (nVal < 0) throw new IllegalArgumentException("study.direction.selectionLimit must be >= 0, got " + nVal);
        List<String> trainHarmful, trainHarmless, valHarmful, valHarmless;
        if (dh.isEmpty()) {
            trainHarmful = pairs.stream().map(PromptPair::harmful).toList();
            trainHarmless = pairs.stream().map(PromptPair::harmless).toList();
            valHarmful = trainHarmful;
            valHarmless = trainHarmless;
            String why = "the seed pairs themselves (no study.direction.harmful / harmless): NOT disjoint from the seed pairs";
            sets.add(new DataSet("direction training and validation (harmful)", pairSource, trainHarmful.size(), why));
            sets.add(new DataSet("direction training and validation (harmless)", pairSource, trainHarmless.size(), why));
        } else {
            List<String>[] h = split("harmful", dh, nVal, pairPrompts, files, sets);
            List<String>[] l = split("harmless", dl, nVal, pairPrompts, files, sets);
            trainHarmful = h[0]; valHarmful = h[1]; trainHarmless = l[0]; valHarmless = l[1];
        }

        // what is left must be disjoint
        Map<String, List<String>> named = new LinkedHashMap<>();
        Map<String, String> source = new LinkedHashMap<>();
        List<String> seedPrompts = new ArrayList<>();
        for (PromptPair pp : pairs) { seedPrompts.add(pp.harmful()); seedPrompts.add(pp.harmless()); }
        List<String> heldPrompts = new ArrayList<>();
        for (PromptPair pp : heldOut) { heldPrompts.add(pp.harmful()); heldPrompts.add(pp.harmless()); }
        put(named, source, "seed pairs", pairSource, seedPrompts);
        put(named, source, "held-out pairs", hf, heldPrompts);
        put(named, source, "evaluation (harmful)", ehf, evalHarmful);
        put(named, source, "evaluation (harmless)", ehl, evalHarmless);
        if (!dh.isEmpty()) {
            put(named, source, "direction training (harmful)", dh, trainHarmful);
            put(named, source, "direction training (harmless)", dl, trainHarmless);
            put(named, source, "direction validation (harmful)", dh, valHarmful);
            put(named, source, "direction validation (harmless)", dl, valHarmless);
        }
        Map<String, String> seen = new LinkedHashMap<>();
        for (var e : named.entrySet()) {
            for (String prompt : new LinkedHashSet<>(e.getValue())) {
                String before = seen.putIfAbsent(prompt, e.getKey());
                if (before != null) {
                    throw new IllegalArgumentException("prompt '" + prompt + "' is in both " + before + " (" + source.get(before) + ") and "
                            + e.getKey() + " (" + source.get(e.getKey()) + "): the study's prompt sets must be disjoint");
                }
            }
        }
        return new Splits(pairs, heldOut, evalHarmful, evalHarmless, trainHarmful, trainHarmless, valHarmful, valHarmless, List.copyOf(sets));
    }

    private static void put(Map<String, List<String>> named, Map<String, String> source, String name, String file, List<String> prompts) {
        named.put(name, prompts);
        source.put(name, file.isEmpty() ? "built-in" : file);
    }

    private static List<String> evalSet(String name, String file, int limit, Set<String> pairPrompts, Function<String, Path> files, List<DataSet> sets) {
        if (file.isEmpty()) {
            sets.add(new DataSet(name, "none", 0, "none configured"));
            return List.of();
        }
        List<String> all = PromptSets.readInstructions(files.apply(file));
        List<String> kept = all.stream().filter(s -> !pairPrompts.contains(s)).toList();
        List<String> used = limit(kept, limit, "study.eval.limit");
        sets.add(new DataSet(name, file, used.size(), (all.size() - kept.size()) + " of " + all.size() + " lines skipped (prompts of seed or held-out pairs), "
                + (limit == 0 ? "all the rest" : "the first " + used.size() + " of the rest")));
        return used;
    }

    @SuppressWarnings("unchecked")
    private static List<String>[] split(String kind, String file, int nVal, Set<String> pairPrompts, Function<String, Path> files, List<DataSet> sets) {
        List<String> all = PromptSets.readInstructions(files.apply(file));
        List<String> kept = all.stream().filter(s -> !pairPrompts.contains(s)).toList();
        if (nVal == 0 || nVal >= kept.size()) {
            throw new IllegalArgumentException("study.direction.selectionLimit = " + nVal + ": the validation split must be 1.." + (kept.size() - 1)
                    + " lines of " + file + " (" + kept.size() + " usable lines), so that the direction is fit on the others");
        }
        List<String> train = kept.subList(0, kept.size() - nVal), val = kept.subList(kept.size() - nVal, kept.size());
        String skipped = (all.size() - kept.size()) + " of " + all.size() + " lines skipped (prompts of seed or held-out pairs)";
        sets.add(new DataSet("direction training (" + kind + ")", file, train.size(), skipped + "; the lines before the last " + nVal));
        sets.add(new DataSet("direction validation (" + kind + ")", file, val.size(), "the last " + nVal + " usable lines (candidate selection)"));
        return new List[] {List.copyOf(train), List.copyOf(val)};
    }

    static <T> List<T> limit(List<T> xs, int n, String key) {
        if (n < 0) throw new IllegalArgumentException(key + " must be >= 0 (0 = all), got " + n);
        return n == 0 || n >= xs.size() ? xs : xs.subList(0, n);
    }
}
