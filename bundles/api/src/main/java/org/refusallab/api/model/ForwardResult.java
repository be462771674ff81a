package org.refusallab.api.model;

import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The outcome of a hooked forward: logits at the last position of every row ({@code [batch, vocab]}; the last
 * position is a real token for every row because padding is on the left), the activation cache of the hooks asked
 * for, and each row's padding so positions can be mapped.
 */
public record ForwardResult(Tensor lastLogits, Map<String, Tensor> cache, int[] padding, int paddedLength) {

    public Tensor hook(String name) {
        Tensor t = cache.get(name);
        if (t == null) throw new NoSuchElementException("hook " + name + " was not cached; cached: " + cache.keySet());
        return t;
    }

    /** Padded index of a position given from the end of the row (-1 = last token). */
    public int position(int fromEnd) {
        return paddedLength + fromEnd;
    }
}
