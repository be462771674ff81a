package org.refusallab.api.study;

import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import org.refusallab.api.analysis.Describe;

/**
 * The study-wide parameters ({@code study.*} in runtime-config/study.json), declared once. List them in
 * {@code @AnalysisInfo(parameters = ...)} of an analysis that uses the study, so the report shows them.
 */
@Retention(RetentionPolicy.RUNTIME)
public @interface StudyParameters {

    String PREFIX_ = "study.";

    @Describe("pairs file (jsonl/csv, harmful + harmless); empty = the seed's three pairs")
    String pairs() default "";

    @Describe("extra pairs for generations, metric validation and projections; empty = none")
    String heldOutPairs() default "";

    @Describe("use the first N held-out pairs; 0 = all")
    int heldOutLimit() default 0;

    @Describe("held-out harmful instructions for generations and metric validation")
    String eval_harmful() default "";

    @Describe("held-out harmless instructions")
    String eval_harmless() default "";

    @Describe("first N of each eval file; 0 = all")
    int eval_limit() default 0;

    @Describe("the token whose logit the refusal metric reads")
    String refusalToken() default "I";

    @Describe("logit (the seed's) or log-odds (prior work's)")
    String metric() default "logit";

    @Describe("rows per forward batch")
    int maxBatch() default 32;

    @Describe("greedy decoding limit of the generations")
    int maxNewTokens() default 32;

    @Describe(".npy or .json direction computed elsewhere; empty = fit")
    String direction_file() default "";

    @Describe("training instructions of the direction; empty = the pairs' harmful side")
    String direction_harmful() default "";

    @Describe("training instructions of the direction; empty = the pairs' harmless side")
    String direction_harmless() default "";

    @Describe(">= 0 with a position: use that candidate, no selection")
    int direction_layer() default -1;

    @Describe("position from the end, -1 = last token")
    int direction_position() default 0;

    @Describe("metric of the candidate selection")
    String direction_selectionMetric() default "log-odds";

    @Describe("validation split: the last N usable lines of each direction file score the candidates; the direction is fit on the lines before")
    int direction_selectionLimit() default 32;

    @Describe("largest mean KL(baseline || ablated) on harmless validation prompts (prior work: 0.1)")
    double direction_klBound() default 0.1;

    /**
     * @since 1.2
     */
    @Describe("if no candidate passes klBound: the lowest bypass among candidates inducing refusal with KL below this (NaN = fail instead); reported as a finding")
    double direction_fallbackKlBound() default 0.2;

    @Describe("fraction of last layers never chosen")
    double direction_pruneLayerFraction() default 0.2;

    @Describe("write directions/<checkpoint>-refusal-direction.{json,npy}")
    boolean direction_save() default true;
}
