package org.refusallab.testkit.lab;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.ForwardResult;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.model.ModelInfo;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.model.TextTokenizer;

/**
 * A model with planted answers for head analyses: it runs the wrapped model, then overwrites the cached
 * {@code attn.hook_pattern} of chosen heads (a "direct" head whose last query attends only to the first key holding
 * one of the subject tokens; a "diagonal" head whose queries attend only to the previous key) and adds a vector to
 * chosen heads' {@code attn.hook_result} at the last position of rows holding a marked token. Only the cache read
 * back is changed (downstream activations are the wrapped model's); padding is respected (left padding).
 */
public final class PlantedHeads implements HookedModel {

    private final HookedModel model;
    private final Map<String, Integer> directHeads = new HashMap<>();      // hook -> head
    private final Map<String, Integer> diagonalHeads = new HashMap<>();
    private final Map<String, Map<Integer, float[]>> writes = new HashMap<>();
    private Set<Integer> subjectTokens = Set.of();
    private Set<Integer> markedTokens = Set.of();

    public PlantedHeads(HookedModel model) {
        this.model = model;
    }

    /** Layer L head H attends from the last query to the first key whose token is one of these. */
    public PlantedHeads direct(int layer, int head, Set<Integer> subjects) {
        directHeads.put("blocks." + layer + ".attn.hook_pattern", head);
        subjectTokens = subjects;
        return this;
    }

    public PlantedHeads diagonal(int layer, int head) {
        diagonalHeads.put("blocks." + layer + ".attn.hook_pattern", head);
        return this;
    }

    /** Layer L head H's result gains {@code vector} at the last position of rows containing one of {@code marked}. */
    public PlantedHeads writes(int layer, int head, float[] vector, Set<Integer> marked) {
        writes.computeIfAbsent("blocks." + layer + ".attn.hook_result", k -> new HashMap<>()).put(head, vector.clone());
        markedTokens = marked;
        return this;
    }

    @Override public ModelInfo info() { return model.info(); }
    @Override public TextTokenizer tokenizer() { return model.tokenizer(); }
    @Override public List<int[]> generate(GenerationRequest request) { return model.generate(request); }
    @Override public Tensor unembedMatrix() { return model.unembedMatrix(); }
    @Override public Tensor embedMatrix() { return model.embedMatrix(); }
    @Override public Tensor attnOutMatrix(int layer) { return model.attnOutMatrix(layer); }
    @Override public Tensor attnValueMatrix(int layer) { return model.attnValueMatrix(layer); }
    @Override public float[] finalNormWeight() { return model.finalNormWeight(); }
    @Override public org.refusallab.api.model.Architecture architecture() { return model.architecture(); }
    @Override public float[] postAttentionNormWeight(int layer) { return model.postAttentionNormWeight(layer); }

    @Override
    public ForwardResult run(ForwardRequest request) {
        ForwardResult r = model.run(request);
        Map<String, Tensor> cache = new HashMap<>(r.cache());
        int len = r.paddedLength();
        for (var e : cache.entrySet()) {
            String hook = e.getKey();
            Tensor t = e.getValue();
            float[] d = t.data().clone();
            boolean changed = false;
            for (int b = 0; b < request.tokens().size(); b++) {
                int[] tokens = request.tokens().get(b);
                int pad = len - tokens.length;
                if (directHeads.containsKey(hook)) {
                    int h = directHeads.get(hook), subject = -1;
                    for (int i = 0; i < tokens.length && subject < 0; i++) if (subjectTokens.contains(tokens[i])) subject = i;
                    if (subject >= 0) {
                        for (int k = 0; k < len; k++) d[t.offset(b, h, len - 1, k)] = k == pad + subject ? 1f : 0f;
                        changed = true;
                    }
                }
                if (diagonalHeads.containsKey(hook)) {
                    int h = diagonalHeads.get(hook);
                    for (int q = pad + 1; q < len; q++) {
                        for (int k = 0; k < len; k++) d[t.offset(b, h, q, k)] = k == q - 1 ? 1f : 0f;
                    }
                    changed = true;
                }
                if (writes.containsKey(hook) && contains(tokens, markedTokens)) {
                    for (var w : writes.get(hook).entrySet()) {
                        int off = t.offset(b, len - 1, w.getKey(), 0);
                        for (int i = 0; i < w.getValue().length; i++) d[off + i] += w.getValue()[i];
                    }
                    changed = true;
                }
            }
            if (changed) e.setValue(new Tensor(t.shape(), d));
        }
        return new ForwardResult(r.lastLogits(), cache, r.padding(), r.paddedLength());
    }

    private static boolean contains(int[] tokens, Set<Integer> set) {
        for (int t : tokens) if (set.contains(t)) return true;
        return false;
    }

    /** Token ids of words (one token each in the word-level test tokenizer). */
    public static Set<Integer> tokenIds(TextTokenizer tokenizer, String... words) {
        List<Integer> out = new ArrayList<>();
        for (String w : words) out.add(tokenizer.tokenId(w));
        return Set.copyOf(out);
    }
}
