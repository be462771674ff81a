package org.refusallab.launcher.engine;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;

/**
 * A model that counts what analyses ask of it (for bench-study): forward rows (rows of {@link #run} requests),
 * decoded rows (prompts of {@link #generate} requests) and tokens generated (the lengths of what generate returns).
 * With a row budget, a call that would start once the budget is spent throws {@link BudgetReached} instead of
 * running, so an analysis at a large shape can be timed over a bounded number of rows.
 */
public final class CountingModel implements HookedModel {

    /** Thrown instead of running a call once the row budget is spent; the analysis fails with this message. */
    public static final class BudgetReached extends RuntimeException {
        BudgetReached(long rows) {
            super("bench-study: row budget of " + rows + " rows reached (the analysis is timed over the rows done)");
        }
    }

    private final HookedModel model;
    private final AtomicLong forwardRows = new AtomicLong();
    private final AtomicLong decodedRows = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private volatile long budget;

    public CountingModel(HookedModel model) {
        this.model = model;
    }

    /** Zeroes the counts and sets the row budget (forward plus decoded rows; 0 = none). */
    public void reset(long rowBudget) {
        forwardRows.set(0);
        decodedRows.set(0);
        tokens.set(0);
        budget = rowBudget;
    }

    public long forwardRows() {
        return forwardRows.get();
    }

    public long decodedRows() {
        return decodedRows.get();
    }

    public long tokensGenerated() {
        return tokens.get();
    }

    private void checkBudget() {
        long b = budget;
        if (b > 0 && forwardRows.get() + decodedRows.get() >= b) throw new BudgetReached(b);
    }

    @Override
    public ForwardResult run(ForwardRequest request) {
        checkBudget();
        ForwardResult r = model.run(request);
        forwardRows.addAndGet(request.tokens().size());
        return r;
    }

    @Override
    public List<int[]> generate(GenerationRequest request) {
        checkBudget();
        List<int[]> out = model.generate(request);
        decodedRows.addAndGet(request.prompts().size());
        long n = 0;
        for (int[] t : out) n += t.length;
        tokens.addAndGet(n);
        return out;
    }

    @Override
    public ModelInfo info() {
        return model.info();
    }

    @Override
    public TextTokenizer tokenizer() {
        return model.tokenizer();
    }

    @Override
    public List<String> hookNames() {
        return model.hookNames();
    }

    @Override
    public Tensor unembedMatrix() {
        return model.unembedMatrix();
    }

    @Override
    public Tensor embedMatrix() {
        return model.embedMatrix();
    }

    @Override
    public Tensor attnOutMatrix(int layer) {
        return model.attnOutMatrix(layer);
    }

    @Override
    public Tensor attnValueMatrix(int layer) {
        return model.attnValueMatrix(layer);
    }

    @Override
    public float[] finalNormWeight() {
        return model.finalNormWeight();
    }
}
