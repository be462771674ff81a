package org.refusallab.api.study;

/**
 * One of the study's prompt sets as this run used it: its name (e.g. "direction training (harmful)"), where it came
 * from (file, or "built-in"), how many prompts it holds, and the rule that chose them from the file (lines skipped,
 * split, limit).
 *
 * @since 1.2
 */
public record DataSet(String name, String source, int size, String selection) { }
