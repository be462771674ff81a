package org.refusallab.api.study;

/**
 * One candidate of the refusal direction selection (2406.11717): its layer and position (from the end), its bypass,
 * induce and KL scores (NaN where not scored: pruned layers, all-zero differences), and whether it passed every filter.
 */
public record DirectionCandidate(int layer, int position, double bypass, double induce, double kl, boolean prunedLayer, boolean passes) { }
