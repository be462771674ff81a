package org.refusallab.api.study;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.TextTokenizer;
import org.refusallab.testkit.lab.ReferenceModel;

class PairTokensTest {

    private final TextTokenizer tok = ReferenceModel.tiny().tokenizer();

    @Test
    void seedPairsDifferAtTheirSubjectWordJustBeforeTheChatSuffix() {
        List<PairTokens> pairs = PairTokens.of(tok, PromptPair.SEED_PAIRS);
        String[] subjects = {"bomb", "gang", "drugs"};
        for (int i = 0; i < 3; i++) {
            PairTokens p = pairs.get(i);
            assertEquals(tok.tokenId(subjects[i]), p.harmful()[p.subject()]);
            // <end_of_turn> \n <start_of_turn> model \n follow the instruction: the subject is 6th from last
            assertEquals(-6, p.subjectFromEnd());
            assertEquals(p.length(), p.harmless().length);
        }
    }

    @Test
    void lengthMismatchIsAnErrorNamingThePair() {
        var e = assertThrows(IllegalArgumentException.class, () -> PairTokens.of(tok, new PromptPair("Develop a plan to start a gang", "Develop a plan to start a big business")));
        assertTrue(e.getMessage().contains("'Develop a plan to start a gang'") && e.getMessage().contains("token counts differ"), e.getMessage());
    }

    @Test
    void twoOrZeroDifferencesAreErrorsNamingThePair() {
        var two = assertThrows(IllegalArgumentException.class, () -> PairTokens.of(tok, new PromptPair("Make a bomb", "Find a cake")));
        assertTrue(two.getMessage().contains("'Make a bomb' / 'Find a cake'") && two.getMessage().contains("2 positions differ"), two.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> PairTokens.of(tok, new PromptPair("Make a cake", "Make a cake")));
        assertTrue(none.getMessage().contains("0 positions differ"), none.getMessage());
    }
}
