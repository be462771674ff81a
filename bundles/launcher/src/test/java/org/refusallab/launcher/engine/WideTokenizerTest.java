package org.refusallab.launcher.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.TextTokenizer;

/** Ids past the small tokenizer's vocabulary decode as placeholders; everything else is the tokenizer's. */
class WideTokenizerTest {

    /** Ids 0..9, token i is "t" + i; decode joins with '|' and fails on unknown ids, as a real tokenizer does. */
    static final TextTokenizer TEN = new TextTokenizer() {
        @Override public int[] encode(String text) { return new int[] {text.length() % 10}; }
        @Override public String decode(int[] ids, boolean skip) {
            return Arrays.stream(ids).mapToObj(this::tokenString).collect(Collectors.joining("|"));
        }
        @Override public int tokenId(String token) { return Integer.parseInt(token.substring(1)); }
        @Override public String tokenString(int id) {
            if (id < 0 || id >= 10) throw new IllegalArgumentException("token id " + id + " is not in TEN");
            return "t" + id;
        }
    };

    @Test
    void idsPastTheVocabularyDecodeAsPlaceholders() {
        WideTokenizer w = new WideTokenizer(TEN, 10);
        assertEquals("t1|t2<id 128402>t3", w.decode(new int[] {1, 2, 128402, 3}, true));
        assertEquals("<id 10><id 11>", w.decode(new int[] {10, 11}, true));
        assertEquals("<id 255999>", w.tokenString(255999));
        assertEquals("t7", w.tokenString(7));
        assertArrayEquals(new int[] {5}, w.encode("hello"));
        assertEquals(4, w.tokenId("t4"));
    }
}
