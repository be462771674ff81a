package org.refusallab.study.internal;

import java.util.Arrays;
import java.util.List;
import org.refusallab.api.model.TextTokenizer;

/** Where the instruction ends in a chat-formatted prompt. */
final class ChatPositions {

    private ChatPositions() { }

    /**
     * Number of post-instruction tokens (the chat template after the instruction, e.g. {@code <end_of_turn>\n
     * <start_of_turn>model\n}): the prompt's positions -k..-1. Found by tokenizing the prompt up to the end of the
     * instruction and checking that it is a prefix of the whole prompt's tokens.
     */
    public static int postInstructionLength(TextTokenizer tokenizer, String instruction) {
        String full = tokenizer.chatPrompt(instruction);
        int end = full.indexOf(instruction);
        if (end < 0) throw new IllegalArgumentException("chat prompt does not contain the instruction '" + instruction + "'");
        end += instruction.length();
        int[] all = tokenizer.encode(full);
        int[] head = tokenizer.encode(full.substring(0, end));
        if (head.length >= all.length || !Arrays.equals(head, Arrays.copyOf(all, head.length))) {
            throw new IllegalArgumentException("instruction '" + instruction + "' does not end on a token boundary of its chat prompt");
        }
        return all.length - head.length;
    }

    /** The post-instruction length shared by all instructions; an error if they differ. */
    public static int postInstructionLength(TextTokenizer tokenizer, List<String> instructions) {
        int k = -1;
        for (String s : instructions) {
            int n = postInstructionLength(tokenizer, s);
            if (k >= 0 && n != k) {
                throw new IllegalArgumentException("instruction '" + s + "' has " + n + " post-instruction tokens, others " + k);
            }
            k = n;
        }
        return k;
    }
}
