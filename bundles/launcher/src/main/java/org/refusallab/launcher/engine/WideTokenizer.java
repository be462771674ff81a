package org.refusallab.launcher.engine;

import java.util.ArrayList;
import java.util.List;
import org.refusallab.api.model.TextTokenizer;

/**
 * A small tokenizer (e.g. the toy's) used at a larger model vocabulary (bench-study on gemma-2b's 256000 ids):
 * encoding is the tokenizer's, whose ids are valid ids of the larger vocabulary; ids past its own vocabulary, which a
 * random-weight model does produce (top tokens, generations), decode to {@code <id N>} instead of failing.
 */
final class WideTokenizer implements TextTokenizer {

    private final TextTokenizer tokenizer;
    private final int size;

    WideTokenizer(TextTokenizer tokenizer, int size) {
        this.tokenizer = tokenizer;
        this.size = size;
    }

    static String placeholder(int id) {
        return "<id " + id + ">";
    }

    @Override
    public int[] encode(String text) {
        return tokenizer.encode(text);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        List<Integer> run = new ArrayList<>();
        for (int id : ids) {
            if (id >= 0 && id < size) {
                run.add(id);
                continue;
            }
            sb.append(tokenizer.decode(run.stream().mapToInt(Integer::intValue).toArray(), skipSpecialTokens)).append(placeholder(id));
            run.clear();
        }
        return sb.append(tokenizer.decode(run.stream().mapToInt(Integer::intValue).toArray(), skipSpecialTokens)).toString();
    }

    @Override
    public int tokenId(String token) {
        return tokenizer.tokenId(token);
    }

    @Override
    public String tokenString(int id) {
        return id >= 0 && id < size ? tokenizer.tokenString(id) : placeholder(id);
    }

    @Override
    public String chatPrompt(String instruction) {
        return tokenizer.chatPrompt(instruction);
    }

    @Override
    public int[] encodeChat(String instruction) {
        return tokenizer.encodeChat(instruction);
    }
}
