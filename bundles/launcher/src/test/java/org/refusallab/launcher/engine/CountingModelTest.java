package org.refusallab.launcher.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;

/** bench-study's counts: forward rows, decoded rows and generated tokens against what a scripted model was asked and gave. */
class CountingModelTest {

    /** Row r of a generation gets r + 1 tokens (capped by maxNewTokens); forwards return nothing. */
    static final class Scripted implements HookedModel {
        int forwardCalls, generateCalls;

        @Override public ForwardResult run(ForwardRequest request) { forwardCalls++; return null; }

        @Override public List<int[]> generate(GenerationRequest request) {
            generateCalls++;
            List<int[]> out = new ArrayList<>();
            for (int r = 0; r < request.prompts().size(); r++) out.add(new int[Math.min(r + 1, request.maxNewTokens())]);
            return out;
        }

        @Override public ModelInfo info() { throw new UnsupportedOperationException(); }
        @Override public TextTokenizer tokenizer() { throw new UnsupportedOperationException(); }
        @Override public Tensor unembedMatrix() { throw new UnsupportedOperationException(); }
        @Override public Tensor embedMatrix() { throw new UnsupportedOperationException(); }
        @Override public Tensor attnOutMatrix(int layer) { throw new UnsupportedOperationException(); }
        @Override public float[] finalNormWeight() { throw new UnsupportedOperationException(); }
    }

    static List<int[]> rows(int n) {
        List<int[]> t = new ArrayList<>();
        for (int i = 0; i < n; i++) t.add(new int[] {2, 7, 9});
        return t;
    }

    @Test
    void countsRowsOfEachCallAndTheTokensReturned() {
        Scripted s = new Scripted();
        CountingModel m = new CountingModel(s);
        m.run(ForwardRequest.of(rows(3)));
        m.run(ForwardRequest.of(rows(5)));
        m.generate(new GenerationRequest(rows(4), 3, List.of())); // 1 + 2 + 3 + 3 tokens
        m.generate(new GenerationRequest(rows(2), 10, List.of())); // 1 + 2
        assertEquals(8, m.forwardRows());
        assertEquals(6, m.decodedRows());
        assertEquals(9 + 3, m.tokensGenerated());
        m.reset(0);
        assertEquals(0, m.forwardRows() + m.decodedRows() + m.tokensGenerated());
    }

    @Test
    void aSpentBudgetStopsTheNextCallBeforeItRuns() {
        Scripted s = new Scripted();
        CountingModel m = new CountingModel(s);
        m.reset(6);
        m.run(ForwardRequest.of(rows(4)));  // 4 < 6: runs
        m.generate(new GenerationRequest(rows(3), 2, List.of())); // 4 < 6: runs, 7 rows now
        var e = assertThrows(CountingModel.BudgetReached.class, () -> m.run(ForwardRequest.of(rows(1))));
        assertEquals("bench-study: row budget of 6 rows reached (the analysis is timed over the rows done)", e.getMessage());
        assertThrows(CountingModel.BudgetReached.class, () -> m.generate(new GenerationRequest(rows(1), 2, List.of())));
        assertEquals(1, s.forwardCalls);
        assertEquals(1, s.generateCalls);
        assertEquals(7, m.forwardRows() + m.decodedRows());
        m.reset(0); // no budget: runs again
        m.run(ForwardRequest.of(rows(1)));
        assertEquals(2, s.forwardCalls);
    }
}
