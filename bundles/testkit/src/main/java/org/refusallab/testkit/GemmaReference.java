package org.refusallab.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.math3.special.Erf;
import org.refusallab.api.model.ForwardRequest;
import org.refusallab.api.model.GenerationRequest;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.checkpoint.GemmaConfig;

/**
 * An independent Gemma 1 and Gemma 2 forward pass in double precision with plain Java arrays and loops: the oracle
 * that tests hold the SameDiff engine's hooks, interventions and generations against. Nothing here uses ND4J.
 *
 * <p>The math, per block (x is the residual stream {@code [batch, pos, d_model]}):
 * <pre>
 *   x0   = embed[ids] * float32(sqrt(d_model))
 *   h    = x / sqrt(mean(x^2) + eps) * (1 + w_ln1)
 *   q, k, v = h Wq^T, h Wk^T, h Wv^T; q, k rotated (rotate-half, inv_freq = theta^(-2i/head_dim))
 *   pattern = softmax(q.k * head_dim^-0.5 + causal and padding mask); query head h reads kv head h / (H / KV)
 *   x    = x + sum_h z_h Wo[:, h]^T
 *   x    = x + down(gelu(gate h2) * up h2), h2 = RMSNorm(x) * (1 + w_ln2)
 *   logits = RMSNorm(x) * (1 + w_norm) embed^T   (tied unembedding)
 * </pre>
 *
 * <p>Gemma 2 ({@code config.gemma2() != null}) changes, per block:
 * <pre>
 *   scores  = q.k * query_pre_attn_scalar^-0.5, then tanh(scores / attn_cap) * attn_cap, then the mask; on a
 *             local (sliding) layer a query also ignores keys sliding_window or more positions back
 *   attn_out = RMSNorm(sum_h result_h) * (1 + w_post_attention_layernorm)        (hook ln1_post.hook_scale)
 *   mlp_out  = RMSNorm(down(...)) * (1 + w_post_feedforward_layernorm)           (hook ln2_post.hook_scale)
 *   the MLP's input norm is pre_feedforward_layernorm (in Gemma 1, post_attention_layernorm is that norm)
 *   logits  = tanh(logits / final_cap) * final_cap
 * </pre>
 * As in TransformerLens, {@code hook_attn_out} / {@code hook_mlp_out} are after the post-norms (what is added to the
 * residual stream) and {@code attn.hook_result} sums to the attention output BEFORE the post-attention norm.
 *
 * <p>Hooks follow TransformerLens names and shapes, batch first; every hook is cached on every run. Conventions:
 * <ul>
 *   <li>{@code hook_embed} is the scaled embedding (TransformerLens folds sqrt(d_model) into W_E for Gemma).</li>
 *   <li>{@code ln1/ln2/ln_final.hook_scale} {@code [batch, pos, 1]} is sqrt(mean(x^2) + eps), so the norm's
 *       output is x / scale * (1 + w).</li>
 *   <li>{@code attn.hook_q} {@code [batch, pos, H, head_dim]}, {@code attn.hook_k/hook_v} {@code [batch, pos, KV, head_dim]}:
 *       q and k BEFORE the rotary embedding, as TransformerLens records them; an edit there is rotated afterwards.</li>
 *   <li>{@code attn.hook_attn_scores} {@code [batch, H, query, key]}: scaled scores with masked entries (future keys,
 *       padding keys) set to {@link #MASKED_SCORE} (TransformerLens uses -inf; a finite value keeps rows that are
 *       all masked, i.e. padding queries, free of NaN).</li>
 *   <li>{@code attn.hook_pattern}: softmax of the scores; a query row whose every score is masked (a padding query)
 *       gets an all-zero pattern, as TransformerLens turns its NaN rows into zeros.</li>
 *   <li>{@code attn.hook_result} {@code [batch, pos, H, d_model]}: z_h Wo[:, h*hd:(h+1)*hd]^T; {@code hook_attn_out}
 *       is the sum of the heads' results (after any edit of hook_result).</li>
 *   <li>{@code mlp.hook_pre} is the gate projection before GELU, {@code mlp.hook_post} gelu(gate) * up.</li>
 * </ul>
 * Values at padding positions are computed (position id 0, all-zero attention) but carry no meaning.
 *
 * <p>Interventions ({@link Intervention}) act on a hook's value the moment it is produced, in list order; everything
 * downstream uses the edited value and the cache holds the edited value. PROJECT_OUT and CLAMP normalise their
 * direction in double precision; ADD uses it as given. Meant for tiny models: every weight is held as double.
 */
public final class GemmaReference {

    /** What masked attention scores are set to (not added to). */
    public static final double MASKED_SCORE = -1e30;

    private final GemmaConfig cfg;
    private final int dModel, nHeads, nKv, headDim, dMlp, vocab, nLayers;
    private final double embedScale;
    private final double[][] embed;      // [vocab][d_model], also the unembedding (tied)
    private final Block[] blocks;
    private final double[] finalNormWeight; // [d_model]
    private final Set<String> hookNames;

    /** One decoder layer's weights in the checkpoint's [out][in] layout; ln1Post and ln2Post are Gemma 2's (else null). */
    private record Block(double[] ln1, double[][] wq, double[][] wk, double[][] wv, double[][] wo,
                         double[] ln2, double[][] gate, double[][] up, double[][] down, double[] ln1Post, double[] ln2Post) {
    }

    /**
     * @param config  the model's shapes and constants (its {@code gelu()} picks the MLP activation)
     * @param weights Hugging Face names to row-major float32 values (see the class comment for the names); an
     *                {@code lm_head.weight} is accepted only if it equals the embedding (Gemma ties them)
     */
    public GemmaReference(GemmaConfig config, Map<String, float[]> weights) {
        this.cfg = config;
        this.dModel = config.hiddenSize();
        this.nHeads = config.numHeads();
        this.nKv = config.numKvHeads();
        this.headDim = config.headDim();
        this.dMlp = config.intermediateSize();
        this.vocab = config.vocabSize();
        this.nLayers = config.numLayers();
        if (nKv < 1 || nHeads % nKv != 0) {
            throw new IllegalArgumentException(nHeads + " query heads cannot share " + nKv + " key/value heads evenly");
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " is odd: rotate-half needs pairs");
        this.embedScale = (float) Math.sqrt(dModel); // Gemma rounds the normalizer to the model's float dtype
        this.embed = matrix(weights, "model.embed_tokens.weight", vocab, dModel);
        float[] lmHead = weights.get("lm_head.weight");
        if (lmHead != null && !Arrays.equals(lmHead, weights.get("model.embed_tokens.weight"))) {
            throw new IllegalArgumentException("lm_head.weight differs from model.embed_tokens.weight: untied unembedding is not Gemma 1");
        }
        this.blocks = new Block[nLayers];
        for (int l = 0; l < nLayers; l++) {
            String p = "model.layers." + l + ".";
            blocks[l] = new Block(
                    vector(weights, p + "input_layernorm.weight", dModel),
                    matrix(weights, p + "self_attn.q_proj.weight", nHeads * headDim, dModel),
                    matrix(weights, p + "self_attn.k_proj.weight", nKv * headDim, dModel),
                    matrix(weights, p + "self_attn.v_proj.weight", nKv * headDim, dModel),
                    matrix(weights, p + "self_attn.o_proj.weight", dModel, nHeads * headDim),
                    // the norm before the MLP: Gemma 2 names it pre_feedforward_layernorm
                    vector(weights, p + (gemma2() ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), dModel),
                    matrix(weights, p + "mlp.gate_proj.weight", dMlp, dModel),
                    matrix(weights, p + "mlp.up_proj.weight", dMlp, dModel),
                    matrix(weights, p + "mlp.down_proj.weight", dModel, dMlp),
                    gemma2() ? vector(weights, p + "post_attention_layernorm.weight", dModel) : null,
                    gemma2() ? vector(weights, p + "post_feedforward_layernorm.weight", dModel) : null);
        }
        this.finalNormWeight = vector(weights, "model.norm.weight", dModel);
        this.hookNames = Set.copyOf(allHookNames(nLayers, gemma2()));
    }

    private boolean gemma2() {
        return cfg.gemma2() != null;
    }

    /** Reads {@code config.json} and every {@code model*.safetensors} of a Hugging Face checkpoint folder, independently of the engine's loader. */
    public static GemmaReference load(Path checkpointDir) {
        GemmaConfig config = readConfig(checkpointDir.resolve("config.json"));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(checkpointDir, "model*.safetensors")) {
            for (Path shard : shards) tensors.putAll(SafetensorsFile.read(shard));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + checkpointDir, e);
        }
        if (tensors.isEmpty()) throw new IllegalArgumentException("no model*.safetensors in " + checkpointDir);
        return of(config, tensors);
    }

    /** Like the constructor, but with each weight's shape checked (a transposed square matrix would pass a count check). */
    public static GemmaReference of(GemmaConfig config, Map<String, Tensor> weights) {
        int d = config.hiddenSize(), q = config.numHeads() * config.headDim(), kv = config.numKvHeads() * config.headDim();
        int mlp = config.intermediateSize();
        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("model.embed_tokens.weight", new long[] {config.vocabSize(), d});
        for (int l = 0; l < config.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            expected.put(p + "input_layernorm.weight", new long[] {d});
            expected.put(p + "self_attn.q_proj.weight", new long[] {q, d});
            expected.put(p + "self_attn.k_proj.weight", new long[] {kv, d});
            expected.put(p + "self_attn.v_proj.weight", new long[] {kv, d});
            expected.put(p + "self_attn.o_proj.weight", new long[] {d, q});
            expected.put(p + "post_attention_layernorm.weight", new long[] {d});
            expected.put(p + "mlp.gate_proj.weight", new long[] {mlp, d});
            expected.put(p + "mlp.up_proj.weight", new long[] {mlp, d});
            expected.put(p + "mlp.down_proj.weight", new long[] {d, mlp});
            if (config.gemma2() != null) {
                expected.put(p + "pre_feedforward_layernorm.weight", new long[] {d});
                expected.put(p + "post_feedforward_layernorm.weight", new long[] {d});
            }
        }
        expected.put("model.norm.weight", new long[] {d});
        expected.forEach((name, shape) -> {
            Tensor t = weights.get(name);
            if (t == null) throw new IllegalArgumentException("missing weight " + name);
            if (!Arrays.equals(t.shape(), shape)) {
                throw new IllegalArgumentException("weight " + name + " has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
            }
        });
        return new GemmaReference(config, flatten(weights));
    }

    /**
     * A Gemma 1 or Gemma 2 {@code config.json}: the activation is {@code hidden_activation} if present, else {@code hidden_act}
     * ({@code "gelu"} is the exact erf GELU, as transformers 5 runs it); rope theta is top-level {@code rope_theta} or
     * {@code rope_parameters.rope_theta}. Gemma 2's local layers are {@code layer_types}' "sliding_attention" entries,
     * or, without that list, the even layers (transformers' rule); a null soft-cap is none (0).
     */
    public static GemmaConfig readConfig(Path configJson) {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson, e);
        }
        String type = c.path("model_type").asText();
        if (!type.equals("gemma") && !type.equals("gemma2")) {
            throw new IllegalArgumentException(configJson + ": model_type '" + type + "' is neither Gemma 1 ('gemma') nor Gemma 2 ('gemma2')");
        }
        int hidden = required(c, "hidden_size", configJson);
        int heads = required(c, "num_attention_heads", configJson);
        JsonNode act = c.hasNonNull("hidden_activation") ? c.get("hidden_activation") : c.get("hidden_act");
        if (act == null) throw new IllegalArgumentException(configJson + ": neither hidden_activation nor hidden_act");
        GemmaConfig.Gelu gelu = act.asText().equals("gelu") ? GemmaConfig.Gelu.EXACT : GemmaConfig.Gelu.parse(act.asText());
        double theta = c.has("rope_theta") ? c.get("rope_theta").asDouble() : c.path("rope_parameters").path("rope_theta").asDouble(10000.0);
        String dtype = c.hasNonNull("dtype") ? c.get("dtype").asText() : c.path("torch_dtype").asText("float32");
        return new GemmaConfig(type, required(c, "vocab_size", configJson), hidden, required(c, "intermediate_size", configJson),
                required(c, "num_hidden_layers", configJson), heads, c.path("num_key_value_heads").asInt(heads),
                c.path("head_dim").asInt(hidden / heads), c.path("rms_norm_eps").asDouble(1e-6), theta, gelu, dtype,
                firstId(c.path("bos_token_id"), 2), firstId(c.path("eos_token_id"), 1), firstId(c.path("pad_token_id"), 0),
                c.path("max_position_embeddings").asInt(8192), type.equals("gemma2") ? readGemma2(c, configJson) : null);
    }

    private static GemmaConfig.Gemma2 readGemma2(JsonNode c, Path file) {
        int layers = required(c, "num_hidden_layers", file);
        List<Boolean> sliding = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            sliding.add(c.has("layer_types") ? c.get("layer_types").get(l).asText().equals("sliding_attention") : l % 2 == 0);
        }
        for (String f : List.of("sliding_window", "query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping")) {
            if (!c.has(f)) throw new IllegalArgumentException(file + ": missing " + f);
        }
        return new GemmaConfig.Gemma2(c.get("sliding_window").asInt(), sliding, c.get("query_pre_attn_scalar").asDouble(),
                c.get("attn_logit_softcapping").asDouble(0), c.get("final_logit_softcapping").asDouble(0));
    }

    /** W_E {@code [vocab][d_model]} (a copy). */
    public double[][] embedding() {
        double[][] out = new double[vocab][];
        for (int v = 0; v < vocab; v++) out[v] = embed[v].clone();
        return out;
    }

    /** W_O of a layer per head {@code [head][d_head][d_model]}, from o_proj's [d_model][n_heads * d_head] layout. */
    public double[][][] attnOut(int layer) {
        double[][] wo = blocks[layer].wo();
        double[][][] out = new double[nHeads][headDim][dModel];
        for (int h = 0; h < nHeads; h++) for (int i = 0; i < headDim; i++) for (int d = 0; d < dModel; d++) out[h][i][d] = wo[d][h * headDim + i];
        return out;
    }

    /** W_V of a layer per kv head {@code [kv][d_model][d_head]}, from v_proj's [n_kv * d_head][d_model] layout. */
    public double[][][] attnValue(int layer) {
        double[][] wv = blocks[layer].wv();
        double[][][] out = new double[nKv][dModel][headDim];
        for (int k = 0; k < nKv; k++) for (int d = 0; d < dModel; d++) for (int i = 0; i < headDim; i++) out[k][d][i] = wv[k * headDim + i][d];
        return out;
    }

    /** The first norm's stored weight w of a layer (the norm multiplies by 1 + w). */
    public double[] ln1Weight(int layer) {
        return blocks[layer].ln1().clone();
    }

    /** Gemma 2: the post-attention norm's stored weight w of a layer (hook_attn_out = RMSNorm(sum of head results) * (1 + w)). */
    public double[] postAttentionNormWeight(int layer) {
        if (blocks[layer].ln1Post() == null) throw new UnsupportedOperationException("a Gemma 1 block has no post-attention norm");
        return blocks[layer].ln1Post().clone();
    }

    /** The final norm's stored weight w (the norm multiplies by 1 + w). */
    public double[] finalNormWeight() {
        return finalNormWeight.clone();
    }

    public GemmaConfig config() {
        return cfg;
    }

    /** Every hook name a run of this model caches (and an intervention may name). */
    public Set<String> hookNames() {
        return hookNames;
    }

    /** The request's token lists, left-padded with the pad id; the request's cache list is ignored (every hook is cached). */
    public ReferenceRun run(ForwardRequest request) {
        return run(request.tokens(), request.interventions());
    }

    /** Sequences of any lengths, left-padded with the config's pad id. */
    public ReferenceRun run(List<int[]> tokens, List<Intervention> interventions) {
        int[][][] padded = leftPad(tokens, cfg.padTokenId());
        return forward(padded[0], padded[1], interventions);
    }

    /**
     * The forward pass of a padded batch.
     *
     * @param inputIds      {@code [batch][pos]}
     * @param attentionMask {@code [batch][pos]}: 1 real, 0 padding (keys there are masked)
     */
    public ReferenceRun forward(int[][] inputIds, int[][] attentionMask, List<Intervention> interventions) {
        int batch = inputIds.length;
        if (batch == 0 || attentionMask.length != batch) {
            throw new IllegalArgumentException("need a non-empty batch with one mask row per input row, got " + batch + " and " + attentionMask.length);
        }
        int seq = inputIds[0].length;
        for (int b = 0; b < batch; b++) {
            if (inputIds[b].length != seq || attentionMask[b].length != seq) {
                throw new IllegalArgumentException("row " + b + " has " + inputIds[b].length + " ids and " + attentionMask[b].length + " mask values, expected " + seq);
            }
            for (int p = 0; p < seq; p++) {
                if (inputIds[b][p] < 0 || inputIds[b][p] >= vocab) {
                    throw new IllegalArgumentException("token id " + inputIds[b][p] + " at row " + b + ", position " + p + " is outside the vocabulary [0, " + vocab + ")");
                }
                if (attentionMask[b][p] != 0 && attentionMask[b][p] != 1) {
                    throw new IllegalArgumentException("attention mask value " + attentionMask[b][p] + " at row " + b + ", position " + p + " is not 0 or 1");
                }
            }
        }
        List<Intervention> edits = interventions == null ? List.of() : List.copyOf(interventions);
        for (Intervention iv : edits) {
            if (!hookNames.contains(iv.hook())) throw new IllegalArgumentException("intervention at unknown hook '" + iv.hook() + "'");
        }
        Hooks hooks = new Hooks(edits);

        // position_ids = cumsum(mask) - 1, padding clamped to 0 (as Hugging Face)
        int[][] positionIds = new int[batch][seq];
        for (int b = 0; b < batch; b++) {
            int count = 0;
            for (int p = 0; p < seq; p++) {
                count += attentionMask[b][p];
                positionIds[b][p] = Math.max(0, count - 1);
            }
        }

        // x0 = embed[ids] * sqrt(d_model)                                       [batch, pos, d_model]
        DTensor x = DTensor.zeros(batch, seq, dModel);
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < seq; p++) {
                double[] e = embed[inputIds[b][p]];
                for (int i = 0; i < dModel; i++) x.data()[(b * seq + p) * dModel + i] = e[i] * embedScale;
            }
        }
        x = hooks.at("hook_embed", x);

        for (int l = 0; l < nLayers; l++) {
            Block w = blocks[l];
            String name = "blocks." + l + ".";
            DTensor residPre = hooks.at(name + "hook_resid_pre", x.copy());          // [batch, pos, d_model]

            // attention
            DTensor scale1 = hooks.at(name + "ln1.hook_scale", rmsScale(residPre)); // [batch, pos, 1]
            DTensor normed1 = rmsNormalize(residPre, scale1, w.ln1());               // [batch, pos, d_model]
            DTensor q = hooks.at(name + "attn.hook_q", project(normed1, w.wq(), nHeads));  // [batch, pos, H, hd]
            DTensor k = hooks.at(name + "attn.hook_k", project(normed1, w.wk(), nKv));     // [batch, pos, KV, hd]
            DTensor v = hooks.at(name + "attn.hook_v", project(normed1, w.wv(), nKv));     // [batch, pos, KV, hd]
            DTensor qRot = rotary(q, positionIds);
            DTensor kRot = rotary(k, positionIds);
            DTensor scores = hooks.at(name + "attn.hook_attn_scores", attentionScores(qRot, kRot, attentionMask, l)); // [batch, H, q, k]
            DTensor pattern = hooks.at(name + "attn.hook_pattern", softmaxRows(scores));  // [batch, H, q, k]
            DTensor z = hooks.at(name + "attn.hook_z", mixValues(pattern, v));          // [batch, pos, H, hd]
            DTensor result = hooks.at(name + "attn.hook_result", headResults(z, w.wo())); // [batch, pos, H, d_model]
            DTensor attnOut = sumHeads(result);                                          // [batch, pos, d_model]
            if (gemma2()) { // the post-attention norm; its input is what the heads' results sum to
                attnOut = rmsNormalize(attnOut, hooks.at(name + "ln1_post.hook_scale", rmsScale(attnOut)), w.ln1Post());
            }
            attnOut = hooks.at(name + "hook_attn_out", attnOut);
            DTensor residMid = hooks.at(name + "hook_resid_mid", plus(residPre, attnOut));

            // GeGLU MLP: down(gelu(gate h) * up h)
            DTensor scale2 = hooks.at(name + "ln2.hook_scale", rmsScale(residMid));
            DTensor normed2 = rmsNormalize(residMid, scale2, w.ln2());
            DTensor gatePre = hooks.at(name + "mlp.hook_pre", linear(normed2, w.gate()));  // [batch, pos, d_mlp]
            DTensor upOut = linear(normed2, w.up());                                       // [batch, pos, d_mlp]
            DTensor post = DTensor.zeros(batch, seq, dMlp);
            for (int i = 0; i < post.data().length; i++) post.data()[i] = gelu(gatePre.data()[i]) * upOut.data()[i];
            post = hooks.at(name + "mlp.hook_post", post);
            DTensor mlpOut = linear(post, w.down());                                      // [batch, pos, d_model]
            if (gemma2()) { // the post-feed-forward norm
                mlpOut = rmsNormalize(mlpOut, hooks.at(name + "ln2_post.hook_scale", rmsScale(mlpOut)), w.ln2Post());
            }
            mlpOut = hooks.at(name + "hook_mlp_out", mlpOut);
            x = hooks.at(name + "hook_resid_post", plus(residMid, mlpOut));
        }

        DTensor scaleF = hooks.at("ln_final.hook_scale", rmsScale(x));
        DTensor normedF = hooks.at("ln_final.hook_normalized", rmsNormalize(x, scaleF, finalNormWeight));
        DTensor logits = linear(normedF, embed);                                         // [batch, pos, vocab]
        double finalCap = gemma2() ? cfg.gemma2().finalLogitSoftcap() : 0;
        if (finalCap > 0) {
            for (int i = 0; i < logits.data().length; i++) logits.data()[i] = Math.tanh(logits.data()[i] / finalCap) * finalCap;
        }
        hooks.at("logits", logits);
        return new ReferenceRun(hooks.cache, deepCopy(attentionMask), positionIds);
    }

    /**
     * Greedy decoding, a full forward per step. Rows are left-padded to a common length at every step; a row stops
     * after producing one of {@code stopTokenIds} (which is kept as its last token) and is carried along, padded,
     * so that row indices of the interventions stay valid. Interventions are applied at every step; those with null
     * positions act on every position, generated ones included (explicit positions index each step's padded batch).
     *
     * @return the new tokens of every prompt
     */
    public List<int[]> generate(List<int[]> prompts, int maxNewTokens, List<Intervention> interventions, int... stopTokenIds) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        List<List<Integer>> generated = new ArrayList<>();
        boolean[] done = new boolean[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) generated.add(new ArrayList<>());
        for (int step = 0; step < maxNewTokens; step++) {
            List<int[]> current = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                int[] seq = Arrays.copyOf(prompts.get(i), prompts.get(i).length + generated.get(i).size());
                for (int j = 0; j < generated.get(i).size(); j++) seq[prompts.get(i).length + j] = generated.get(i).get(j);
                current.add(seq);
            }
            DTensor last = run(current, interventions).lastLogits(); // [batch, vocab]
            boolean allDone = true;
            for (int i = 0; i < prompts.size(); i++) {
                if (done[i]) continue;
                int next = argmax(last.data(), i * vocab, vocab);
                generated.get(i).add(next);
                for (int stop : stopTokenIds) done[i] |= next == stop;
                allDone &= done[i];
            }
            if (allDone) break;
        }
        List<int[]> out = new ArrayList<>();
        for (List<Integer> g : generated) out.add(g.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }

    public List<int[]> generate(GenerationRequest request, int... stopTokenIds) {
        return generate(request.prompts(), request.maxNewTokens(), request.interventions(), stopTokenIds);
    }

    /** Left-pads sequences to the longest: {@code [0]} the ids, {@code [1]} the attention mask. */
    public static int[][][] leftPad(List<int[]> tokens, int padId) {
        if (tokens == null || tokens.isEmpty()) throw new IllegalArgumentException("no sequences to pad");
        int longest = 0;
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).length == 0) throw new IllegalArgumentException("sequence " + i + " is empty");
            longest = Math.max(longest, tokens.get(i).length);
        }
        int[][] ids = new int[tokens.size()][longest];
        int[][] mask = new int[tokens.size()][longest];
        for (int b = 0; b < tokens.size(); b++) {
            int[] t = tokens.get(b);
            int pad = longest - t.length;
            Arrays.fill(ids[b], 0, pad, padId);
            System.arraycopy(t, 0, ids[b], pad, t.length);
            Arrays.fill(mask[b], pad, longest, 1);
        }
        return new int[][][] {ids, mask};
    }

    // ---------------------------------------------------------------- the pieces of Gemma's math

    /** sqrt(mean(x^2) + eps) over the last axis: [batch, pos, d] -> [batch, pos, 1]. */
    private DTensor rmsScale(DTensor x) {
        int rows = x.dim(0) * x.dim(1), d = x.dim(2);
        DTensor s = DTensor.zeros(x.dim(0), x.dim(1), 1);
        for (int r = 0; r < rows; r++) {
            double sumSq = 0;
            for (int i = 0; i < d; i++) sumSq += x.data()[r * d + i] * x.data()[r * d + i];
            s.data()[r] = Math.sqrt(sumSq / d + cfg.rmsNormEps());
        }
        return s;
    }

    /** x / scale * (1 + w): Gemma's RMSNorm with its offset weight. */
    private static DTensor rmsNormalize(DTensor x, DTensor scale, double[] w) {
        int rows = x.dim(0) * x.dim(1), d = x.dim(2);
        DTensor y = DTensor.zeros(x.shape());
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < d; i++) y.data()[r * d + i] = x.data()[r * d + i] / scale.data()[r] * (1 + w[i]);
        }
        return y;
    }

    /** y = x W^T per position: [batch, pos, in] x [out][in] -> [batch, pos, out]. */
    private static DTensor linear(DTensor x, double[][] w) {
        int rows = x.dim(0) * x.dim(1), in = x.dim(2), out = w.length;
        DTensor y = DTensor.zeros(x.dim(0), x.dim(1), out);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double acc = 0;
                for (int i = 0; i < in; i++) acc += w[o][i] * x.data()[r * in + i];
                y.data()[r * out + o] = acc;
            }
        }
        return y;
    }

    /** A projection split into heads: [batch, pos, d] -> [batch, pos, heads, head_dim] (output row h*hd+j is head h, dim j). */
    private DTensor project(DTensor x, double[][] w, int heads) {
        DTensor y = linear(x, w);
        return new DTensor(new int[] {x.dim(0), x.dim(1), heads, headDim}, y.data());
    }

    /** Rotate-half rotary embedding at each token's position id: [batch, pos, heads, hd] -> same. */
    private DTensor rotary(DTensor x, int[][] positionIds) {
        int batch = x.dim(0), seq = x.dim(1), heads = x.dim(2), half = headDim / 2;
        DTensor y = DTensor.zeros(x.shape());
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < seq; p++) {
                for (int i = 0; i < half; i++) {
                    double invFreq = 1.0 / Math.pow(cfg.ropeTheta(), 2.0 * i / headDim);
                    double angle = positionIds[b][p] * invFreq;
                    double cos = Math.cos(angle), sin = Math.sin(angle);
                    for (int h = 0; h < heads; h++) {
                        int base = ((b * seq + p) * heads + h) * headDim;
                        double x1 = x.data()[base + i], x2 = x.data()[base + i + half];
                        // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1]
                        y.data()[base + i] = x1 * cos - x2 * sin;
                        y.data()[base + i + half] = x2 * cos + x1 * sin;
                    }
                }
            }
        }
        return y;
    }

    /**
     * q.k * hd^-0.5 (Gemma 2: query_pre_attn_scalar^-0.5, then soft-capped) with query head h reading kv head
     * h / (H / KV); future and padding keys, and on Gemma 2's local layers keys sliding_window or more positions
     * back, set to MASKED_SCORE.
     */
    private DTensor attentionScores(DTensor q, DTensor k, int[][] mask, int layer) {
        int batch = q.dim(0), seq = q.dim(1), group = nHeads / nKv;
        double scaling = 1.0 / Math.sqrt(gemma2() ? cfg.gemma2().queryPreAttnScalar() : headDim);
        double cap = gemma2() ? cfg.gemma2().attnLogitSoftcap() : 0;
        int window = gemma2() && cfg.gemma2().slidingLayers().get(layer) ? cfg.gemma2().slidingWindow() : Integer.MAX_VALUE;
        DTensor s = DTensor.zeros(batch, nHeads, seq, seq);                          // [batch, H, q, k]
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nHeads; h++) {
                int kvHead = h / group;
                for (int qi = 0; qi < seq; qi++) {
                    for (int ki = 0; ki < seq; ki++) {
                        int at = ((b * nHeads + h) * seq + qi) * seq + ki;
                        if (ki > qi || mask[b][ki] == 0 || qi - ki >= window) {
                            s.data()[at] = MASKED_SCORE;
                            continue;
                        }
                        double dot = 0;
                        int qb = ((b * seq + qi) * nHeads + h) * headDim, kb = ((b * seq + ki) * nKv + kvHead) * headDim;
                        for (int j = 0; j < headDim; j++) dot += q.data()[qb + j] * k.data()[kb + j];
                        double score = dot * scaling;
                        s.data()[at] = cap > 0 ? Math.tanh(score / cap) * cap : score;
                    }
                }
            }
        }
        return s;
    }

    /** Softmax over keys; a row that is masked throughout becomes all zeros. */
    private static DTensor softmaxRows(DTensor scores) {
        int keys = scores.dim(3), rows = scores.data().length / keys;
        DTensor p = DTensor.zeros(scores.shape());
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < keys; i++) max = Math.max(max, scores.data()[r * keys + i]);
            if (max <= MASKED_SCORE / 2) continue;
            double sum = 0;
            for (int i = 0; i < keys; i++) sum += p.data()[r * keys + i] = Math.exp(scores.data()[r * keys + i] - max);
            for (int i = 0; i < keys; i++) p.data()[r * keys + i] /= sum;
        }
        return p;
    }

    /** z[b, q, h] = sum_k pattern[b, h, q, k] v[b, k, h / group]: [batch, pos, H, hd]. */
    private DTensor mixValues(DTensor pattern, DTensor v) {
        int batch = v.dim(0), seq = v.dim(1), group = nHeads / nKv;
        DTensor z = DTensor.zeros(batch, seq, nHeads, headDim);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nHeads; h++) {
                for (int qi = 0; qi < seq; qi++) {
                    int zb = ((b * seq + qi) * nHeads + h) * headDim;
                    for (int ki = 0; ki < seq; ki++) {
                        double a = pattern.data()[((b * nHeads + h) * seq + qi) * seq + ki];
                        int vb = ((b * seq + ki) * nKv + h / group) * headDim;
                        for (int j = 0; j < headDim; j++) z.data()[zb + j] += a * v.data()[vb + j];
                    }
                }
            }
        }
        return z;
    }

    /** result[b, p, h] = Wo[:, h*hd:(h+1)*hd] z[b, p, h]: [batch, pos, H, d_model]. */
    private DTensor headResults(DTensor z, double[][] wo) {
        int batch = z.dim(0), seq = z.dim(1);
        DTensor r = DTensor.zeros(batch, seq, nHeads, dModel);
        for (int bp = 0; bp < batch * seq; bp++) {
            for (int h = 0; h < nHeads; h++) {
                int zb = (bp * nHeads + h) * headDim, rb = (bp * nHeads + h) * dModel;
                for (int o = 0; o < dModel; o++) {
                    double acc = 0;
                    for (int j = 0; j < headDim; j++) acc += wo[o][h * headDim + j] * z.data()[zb + j];
                    r.data()[rb + o] = acc;
                }
            }
        }
        return r;
    }

    /** [batch, pos, H, d] -> [batch, pos, d]. */
    private DTensor sumHeads(DTensor result) {
        int batch = result.dim(0), seq = result.dim(1);
        DTensor out = DTensor.zeros(batch, seq, dModel);
        for (int bp = 0; bp < batch * seq; bp++) {
            for (int h = 0; h < nHeads; h++) {
                for (int o = 0; o < dModel; o++) out.data()[bp * dModel + o] += result.data()[(bp * nHeads + h) * dModel + o];
            }
        }
        return out;
    }

    private static DTensor plus(DTensor a, DTensor b) {
        DTensor c = DTensor.zeros(a.shape());
        for (int i = 0; i < c.data().length; i++) c.data()[i] = a.data()[i] + b.data()[i];
        return c;
    }

    /** GELU as configured: exact 0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation. */
    double gelu(double x) {
        if (cfg.gelu() == GemmaConfig.Gelu.EXACT) return 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    // ---------------------------------------------------------------- hooks and interventions

    /** Applies a run's interventions at each hook as its value is produced, and caches the edited value. */
    private static final class Hooks {
        final List<Intervention> interventions;
        final Map<String, DTensor> cache = new LinkedHashMap<>();

        Hooks(List<Intervention> interventions) {
            this.interventions = interventions;
        }

        DTensor at(String hook, DTensor value) {
            for (Intervention iv : interventions) {
                if (iv.hook().equals(hook)) apply(iv, value);
            }
            cache.put(hook, value);
            return value;
        }
    }

    /**
     * Edits {@code x} in place: for every selected (row, position, head), the vector along the last axis.
     * Positions index axis 1, or the query axis 2 of {@code [batch, head, query, key]} hooks; heads the head axis.
     */
    static void apply(Intervention iv, DTensor x) {
        HookLayout layout = HookLayout.of(iv.hook());
        int[] shape = x.shape();
        int rank = shape.length, width = shape[rank - 1];
        int[] rows = iv.rows() != null ? iv.rows() : range(shape[0]);
        int[] positions = iv.positions() != null ? iv.positions() : range(shape[layout.positionAxis()]);
        int[] heads;
        if (layout.headAxis() < 0) {
            if (iv.heads() != null) throw new IllegalArgumentException(iv.describe() + ": hook " + iv.hook() + " has no head axis");
            heads = new int[] {-1};
        } else {
            heads = iv.heads() != null ? iv.heads() : range(shape[layout.headAxis()]);
            checkRange(iv, "head", heads, shape[layout.headAxis()]);
        }
        checkRange(iv, "row", rows, shape[0]);
        checkRange(iv, "position", positions, shape[layout.positionAxis()]);

        int[] sourceRows = rows;
        DTensor source = null;
        if (iv.kind() == Intervention.Kind.REPLACE) {
            source = DTensor.of(iv.source());
            if (source.rank() != rank || !Arrays.equals(Arrays.copyOfRange(source.shape(), 1, rank), Arrays.copyOfRange(shape, 1, rank))) {
                throw new IllegalArgumentException(iv.describe() + ": source shape " + Arrays.toString(source.shape())
                        + " does not match the hook's shape " + Arrays.toString(shape) + " (beyond the batch axis)");
            }
            if (iv.sourceRows() != null) {
                if (iv.sourceRows().length != rows.length) {
                    throw new IllegalArgumentException(iv.describe() + ": " + iv.sourceRows().length + " source rows for " + rows.length + " rows");
                }
                sourceRows = iv.sourceRows();
            }
            checkRange(iv, "source row", sourceRows, source.dim(0));
        }
        double[] direction = null;
        if (iv.direction() != null) {
            if (iv.direction().length != width) {
                throw new IllegalArgumentException(iv.describe() + ": direction of length " + iv.direction().length
                        + " for a hook whose last axis has " + width);
            }
            direction = new double[width];
            double norm = 0;
            for (int i = 0; i < width; i++) {
                direction[i] = iv.direction()[i];
                norm += direction[i] * direction[i];
            }
            if (iv.kind() == Intervention.Kind.PROJECT_OUT || iv.kind() == Intervention.Kind.CLAMP) {
                norm = Math.sqrt(norm);
                if (norm == 0) throw new IllegalArgumentException(iv.describe() + ": direction has zero norm");
                for (int i = 0; i < width; i++) direction[i] /= norm;
            }
        }

        for (int n = 0; n < rows.length; n++) {
            for (int p : positions) {
                for (int h : heads) {
                    int[] index = new int[rank];
                    index[0] = rows[n];
                    index[layout.positionAxis()] = p;
                    if (h >= 0) index[layout.headAxis()] = h;
                    int at = x.offset(index);
                    double[] d = x.data();
                    switch (iv.kind()) {
                        case REPLACE -> {
                            index[0] = sourceRows[n];
                            System.arraycopy(source.data(), source.offset(index), d, at, width);
                        }
                        case ZERO -> Arrays.fill(d, at, at + width, 0.0);
                        case PROJECT_OUT, CLAMP -> {
                            double dot = 0;
                            for (int i = 0; i < width; i++) dot += d[at + i] * direction[i];
                            double target = iv.kind() == Intervention.Kind.CLAMP ? iv.value() : 0.0;
                            for (int i = 0; i < width; i++) d[at + i] += (target - dot) * direction[i];
                        }
                        case ADD -> {
                            for (int i = 0; i < width; i++) d[at + i] += iv.value() * direction[i];
                        }
                    }
                }
            }
        }
    }

    private static void checkRange(Intervention iv, String what, int[] indices, int size) {
        for (int i : indices) {
            if (i < 0 || i >= size) throw new IllegalArgumentException(iv.describe() + ": " + what + " " + i + " is outside [0, " + size + ")");
        }
    }

    // ---------------------------------------------------------------- small helpers

    static Set<String> allHookNames(int layers, boolean gemma2) {
        Set<String> names = new LinkedHashSet<>();
        names.add("hook_embed");
        for (int l = 0; l < layers; l++) {
            for (String h : List.of("hook_resid_pre", "ln1.hook_scale", "attn.hook_q", "attn.hook_k", "attn.hook_v",
                    "attn.hook_attn_scores", "attn.hook_pattern", "attn.hook_z", "attn.hook_result", "ln1_post.hook_scale", "hook_attn_out",
                    "hook_resid_mid", "ln2.hook_scale", "mlp.hook_pre", "mlp.hook_post", "ln2_post.hook_scale", "hook_mlp_out", "hook_resid_post")) {
                if (!gemma2 && h.contains("_post.")) continue; // Gemma 2's post-attention / post-feed-forward norms
                names.add("blocks." + l + "." + h);
            }
        }
        names.addAll(List.of("ln_final.hook_scale", "ln_final.hook_normalized", "logits"));
        return names;
    }

    private static int argmax(double[] values, int from, int length) {
        int best = 0; // the first of equal maxima, as torch.argmax
        for (int i = 1; i < length; i++) {
            if (values[from + i] > values[from + best]) best = i;
        }
        return best;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }

    private static double[][] matrix(Map<String, float[]> weights, String name, int rows, int cols) {
        float[] flat = weights.get(name);
        if (flat == null) throw new IllegalArgumentException("missing weight " + name);
        if (flat.length != (long) rows * cols) {
            throw new IllegalArgumentException("weight " + name + " has " + flat.length + " values, expected [" + rows + ", " + cols + "]");
        }
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) m[r][c] = flat[r * cols + c];
        }
        return m;
    }

    private static double[] vector(Map<String, float[]> weights, String name, int n) {
        return matrix(weights, name, 1, n)[0];
    }

    private static int required(JsonNode c, String field, Path file) {
        if (!c.hasNonNull(field)) throw new IllegalArgumentException(file + ": missing " + field);
        return c.get(field).asInt();
    }

    private static int firstId(JsonNode node, int fallback) {
        if (node.isArray()) return node.size() > 0 ? node.get(0).asInt() : fallback;
        return node.isNumber() ? node.asInt() : fallback;
    }

    /** The weights of an API tensor map (shapes are checked by the constructor through the value counts). */
    public static Map<String, float[]> flatten(Map<String, Tensor> tensors) {
        Map<String, float[]> flat = new LinkedHashMap<>();
        tensors.forEach((k, t) -> flat.put(k, t.data()));
        return flat;
    }
}
