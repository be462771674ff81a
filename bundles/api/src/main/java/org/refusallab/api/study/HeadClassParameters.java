package org.refusallab.api.study;

import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import org.refusallab.api.analysis.Describe;

/**
 * How the heads of the middle layers are classified ({@code headClasses.*} in runtime-config/study.json, top-level
 * {@code "parameters"} so that every analysis using the classes sees the same values). List it in
 * {@code @AnalysisInfo(parameters = ...)} of an analysis that calls {@link Study#headClasses()}.
 */
@Retention(RetentionPolicy.RUNTIME)
public @interface HeadClassParameters {

    String PREFIX_ = "headClasses.";

    @Describe("half-open layer range FROM-TO of the heads classified; empty = the seed's L6-L12 of 18 layers, scaled to the model's depth")
    String layers() default "";

    @Describe("a head is direct / diagonal when its score is >= this (the seed's 0.2)")
    double threshold() default 0.2;

    @Describe("diagonal score: mean (of pattern[q, q-1] over queries 1..n-1, comparable with the threshold) or sum (the seed's words, grows with length)")
    String diagonal() default "mean";

    @Describe("a head that is neither direct nor diagonal is BOS when its mean attention to BOS is >= this")
    double bosThreshold() default 0.5;

    @Describe("prompts the scores are averaged over: both, harmful or harmless sides of the pairs")
    String prompts() default "both";
}
