package org.refusallab.api.study;

import java.util.Arrays;
import java.util.List;
import org.refusallab.api.model.TextTokenizer;

/**
 * A prompt pair tokenized in the chat format, with its subject position: the only index where the harmful and
 * harmless token sequences differ. {@code subjectFromEnd} is that index counted from the end (-1 = last token).
 */
public record PairTokens(PromptPair pair, int[] harmful, int[] harmless, int subject) {

    public int length() {
        return harmful.length;
    }

    public int subjectFromEnd() {
        return subject - harmful.length;
    }

    /**
     * Whether patching either run's activations into the other at this position (counted from the end if negative)
     * is an identity: before the subject both prompts have the same tokens, and with causal attention every
     * activation there is the same in both runs. Patching sweeps skip these positions and record the unpatched
     * metric, which is what the patched run computes.
     */
    public boolean patchIsIdentityAt(int position) {
        return (position < 0 ? harmful.length + position : position) < subject;
    }

    /** Tokenizes each pair in the chat format and finds its subject position; errors name the pair. */
    public static List<PairTokens> of(TextTokenizer tokenizer, List<PromptPair> pairs) {
        return pairs.stream().map(p -> of(tokenizer, p)).toList();
    }

    public static PairTokens of(TextTokenizer tokenizer, PromptPair pair) {
        int[] a = tokenizer.encodeChat(pair.harmful());
        int[] b = tokenizer.encodeChat(pair.harmless());
        return new PairTokens(pair, a, b, subjectPosition(pair, a, b));
    }

    static int subjectPosition(PromptPair pair, int[] harmful, int[] harmless) {
        String name = "pair '" + pair.harmful() + "' / '" + pair.harmless() + "'";
        if (harmful.length != harmless.length) {
            throw new IllegalArgumentException(name + ": token counts differ (" + harmful.length + " vs " + harmless.length
                    + "); a pair must differ in exactly one token");
        }
        int found = -1;
        int count = 0;
        for (int i = 0; i < harmful.length; i++) {
            if (harmful[i] != harmless[i]) {
                count++;
                found = i;
            }
        }
        if (count != 1) {
            throw new IllegalArgumentException(name + ": " + count + " positions differ (need exactly one): "
                    + Arrays.toString(harmful) + " vs " + Arrays.toString(harmless));
        }
        return found;
    }

    /** Axis labels of the pair's positions: token strings, "harmful/harmless" at the subject. */
    public java.util.List<String> positionLabels(TextTokenizer tokenizer) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < harmful.length; i++) {
            String t = tokenizer.tokenString(harmful[i]);
            if (i == subject) t = t + "/" + tokenizer.tokenString(harmless[i]);
            out.add(i + ":" + t.replace("\n", "\\n"));
        }
        return out;
    }

    @Override
    public String toString() {
        return "PairTokens[" + pair + ", subject=" + subject + "/" + harmful.length + "]";
    }
}
