package org.refusallab.platform.tests;

import java.util.List;
import java.util.Map;
import org.refusallab.api.model.Architecture;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;

/** A model double for platform tests: vocabulary of 8; the logit of token v is v * (sum of the row's ids). */
public final class FakeModel implements HookedModel, AutoCloseable {
    static final int VOCAB = 8;
    volatile boolean closed;
    private final Architecture architecture;

    public FakeModel() {
        this(Architecture.GEMMA);
    }

    /** A fake of another architecture (e.g. Gemma 2's soft-caps and post-norms), for the assumption checks. */
    public FakeModel(Architecture architecture) {
        this.architecture = architecture;
    }

    @Override
    public Architecture architecture() {
        return architecture;
    }

    public ModelInfo info() {
        return new ModelInfo("fake-checkpoint", "gemma", 3, 2, 1, 8, 4, 16, VOCAB, "bfloat16", "float32", "tanh", 10000, 1e-6);
    }

    public TextTokenizer tokenizer() {
        return new TextTokenizer() {
            public int[] encode(String text) { return text.chars().map(c -> c % VOCAB).toArray(); }
            public String decode(int[] ids, boolean skip) { return java.util.Arrays.toString(ids); }
            public int tokenId(String token) { return token.charAt(0) % VOCAB; }
            public String tokenString(int id) { return "t" + id; }
        };
    }

    public ForwardResult run(ForwardRequest request) {
        int b = request.tokens().size();
        float[] logits = new float[b * VOCAB];
        for (int i = 0; i < b; i++) {
            int sum = 0;
            for (int t : request.tokens().get(i)) sum += t;
            for (int v = 0; v < VOCAB; v++) logits[i * VOCAB + v] = v * sum;
        }
        return new ForwardResult(new Tensor(new long[] {b, VOCAB}, logits), Map.of(), new int[b], 0);
    }

    public List<int[]> generate(GenerationRequest request) { throw new UnsupportedOperationException("not in the fake"); }
    public Tensor unembedMatrix() { throw new UnsupportedOperationException("not in the fake"); }
    public Tensor embedMatrix() { throw new UnsupportedOperationException("not in the fake"); }
    public Tensor attnOutMatrix(int layer) { throw new UnsupportedOperationException("not in the fake"); }
    public float[] finalNormWeight() { throw new UnsupportedOperationException("not in the fake"); }

    @Override
    public void close() {
        closed = true;
    }
}
