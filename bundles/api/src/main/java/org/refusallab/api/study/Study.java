package org.refusallab.api.study;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.api.sweep.Row;
import org.refusallab.api.sweep.RowResult;

/**
 * One analysis's view of the study in one run: the prompt sets, the refusal metric and score, and the refusal
 * direction and generations shared by every analysis of the run (computed once). Get it from
 * {@link StudyService#open}.
 */
@ProviderType
public interface Study {

    AnalysisContext context();

    HookedModel model();

    TextTokenizer tokenizer();

    int nLayers();

    StudyParameters parameters();

    /** The study's prompt pairs (study.pairs; the seed's three by default). */
    List<PromptPair> pairs();

    /** Extra pairs (study.heldOutPairs, first study.heldOutLimit). */
    List<PromptPair> heldOutPairs();

    /** The study's pairs, followed by the held-out pairs when {@code withHeldOut} (an analysis's includeHeldOut). */
    default List<PromptPair> pairs(boolean withHeldOut) {
        if (!withHeldOut) return pairs();
        List<PromptPair> all = new java.util.ArrayList<>(pairs());
        all.addAll(heldOutPairs());
        return List.copyOf(all);
    }

    /**
     * The run's prompt sets (seed pairs, held-out pairs, evaluation, direction training and validation), each with
     * its source, size and the rule that chose it; they are checked disjoint when the study opens.
     *
     * @since 1.2
     */
    List<DataSet> dataSets();

    /** Held-out single instructions (study.eval.*), without prompts of seed or held-out pairs. */
    List<String> evalHarmful();

    List<String> evalHarmless();

    /** The pairs tokenized in the chat format, with their subject positions. */
    List<PairTokens> pairTokens();

    List<int[]> chat(List<String> instructions);

    RefusalMetric metric();

    RefusalScore refusalScore();

    /** The refusal direction of this run: loaded, configured or selected once, then shared. */
    RefusalDirection direction();

    /** The candidate scores of an automatic selection (empty if the direction was configured or loaded). */
    List<DirectionCandidate> directionCandidates();

    /**
     * Baseline and intervened generations, computed once per run: each pair as harmful then harmless (set "pairs",
     * then "held-out pairs"), then the eval instructions (set "eval", harmful ones first).
     */
    List<Completion> generations();

    /**
     * The classes of the middle-layer heads by their attention patterns on {@link #pairs()}, with the
     * {@link HeadClassParameters} of this context: computed once per run and parameter values (shared by the
     * analyses whichever runs first), so an analysis in another bundle gets the same classes.
     *
     * @since 1.1
     */
    HeadClasses headClasses();

    /** Runs rows with this run's batch size, progress bar and cancellation (the sweep service). */
    List<RowResult> sweep(List<Row> rows);
}
