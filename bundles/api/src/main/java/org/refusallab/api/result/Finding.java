package org.refusallab.api.result;

/** The seed write-up's claim beside what this run measured. */
public record Finding(String claim, String measured, Verdict verdict) {
    public enum Verdict { AGREES, PARTLY, DISAGREES, NOT_APPLICABLE }
}
