package org.refusallab.api.analysis;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** The results shared by the analyses of one run, for {@link AnalysisContext#shared}: each computed once, failures kept. */
public final class SharedResults {

    private final Map<String, Object> values = new ConcurrentHashMap<>();

    private record Failure(RuntimeException error) { }

    public synchronized <T> T get(String key, Class<T> type, Supplier<T> compute) {
        Object v = values.get(key);
        if (v == null) {
            try {
                v = compute.get();
            } catch (RuntimeException e) {
                values.put(key, new Failure(e));
                throw e;
            }
            if (v == null) throw new IllegalStateException("shared result " + key + " computed as null");
            values.put(key, v);
        }
        if (v instanceof Failure f) throw new IllegalStateException(key + " is unavailable: " + f.error().getMessage(), f.error());
        if (!type.isInstance(v)) throw new IllegalStateException("shared result " + key + " is a " + v.getClass().getName() + ", not " + type.getName());
        return type.cast(v);
    }

    public void clear() {
        values.clear();
    }
}
