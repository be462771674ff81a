package org.refusallab.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.refusallab.api.model.TextTokenizer;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust tokenizers library through DJL's binding.
 *
 * <p>Encoding never adds special tokens (the chat prompt writes {@code <bos>} itself) and never truncates or pads;
 * special tokens written in the text are recognised. Token-string lookups use the vocabulary of the file
 * ({@code model.vocab} and {@code added_tokens}), so ids are never hard-coded: Gemma 3 has
 * {@code <start_of_turn>} = 105, gemma-2b-it 106. The file must be a Gemma-family tokenizer: loading fails, naming
 * the file, when one of {@code <bos>}, {@code <eos>}, {@code <pad>}, {@code <start_of_turn>}, {@code <end_of_turn>}
 * is not a single token.
 */
public final class HfTokenizer implements TextTokenizer, AutoCloseable {

    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> idsByToken;
    private final Map<Integer, String> tokensById;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int startOfTurnId;
    private final int endOfTurnId;

    private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer, Map<String, Integer> idsByToken) {
        this.file = file;
        this.tokenizer = tokenizer;
        this.idsByToken = Collections.unmodifiableMap(idsByToken);
        Map<Integer, String> byId = new HashMap<>();
        idsByToken.forEach((token, id) -> byId.put(id, token));
        this.tokensById = Collections.unmodifiableMap(byId);
        this.bosId = tokenId("<bos>");
        this.eosId = tokenId("<eos>");
        this.padId = tokenId("<pad>");
        this.startOfTurnId = tokenId("<start_of_turn>");
        this.endOfTurnId = tokenId("<end_of_turn>");
    }

    /** Loads {@code modelDir/tokenizer.json}. */
    public static HfTokenizer load(Path modelDir) {
        if (modelDir == null) throw new IllegalArgumentException("model directory is null");
        return fromFile(modelDir.resolve(TOKENIZER_FILE));
    }

    /** Loads a tokenizer.json file; the error names the file when it is missing, unreadable or not a tokenizer. */
    public static HfTokenizer fromFile(Path tokenizerJson) {
        Path file = tokenizerJson.toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("tokenizer file not found: " + file);
        if (!Files.isReadable(file)) throw new IllegalArgumentException("tokenizer file not readable: " + file);
        Map<String, Integer> vocab = readVocabulary(file);
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
        try {
            return new HfTokenizer(file, hf, vocab);
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /** The tokenizer.json this was loaded from. */
    public Path file() {
        return file;
    }

    @Override
    public int[] encode(String text) {
        if (text == null) throw new IllegalArgumentException("text is null");
        Encoding encoding = tokenizer.encode(text, false, false);
        return toInts(encoding.getIds());
    }

    /** The token strings of a text as the tokenizer splits it (e.g. {@code ▁bomb}). */
    public String[] tokens(String text) {
        if (text == null) throw new IllegalArgumentException("text is null");
        return tokenizer.encode(text, false, false).getTokens();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (!tokensById.containsKey(ids[i])) {
                throw new IllegalArgumentException("token id " + ids[i] + " is not in " + file);
            }
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, skipSpecialTokens);
    }

    /**
     * The id of a token: an exact entry of the vocabulary ({@code "I"}, {@code "<end_of_turn>"}, {@code "▁bomb"}),
     * or else a text that encodes to exactly one token ({@code " bomb"}).
     */
    @Override
    public int tokenId(String token) {
        if (token == null || token.isEmpty()) throw new IllegalArgumentException("empty token for " + file);
        Integer id = idsByToken.get(token);
        if (id != null) return id;
        int[] ids = encode(token);
        if (ids.length == 1 && !isUnknown(ids[0])) return ids[0];
        throw new IllegalArgumentException("'" + token + "' is not a single token of " + file + " (encodes to "
                + ids.length + " tokens: " + Arrays.toString(tokens(token)) + ")");
    }

    private boolean isUnknown(int id) {
        return "<unk>".equals(tokensById.get(id));
    }

    /** The vocabulary's string for an id, as written in tokenizer.json (spaces as ▁). */
    @Override
    public String tokenString(int id) {
        String token = tokensById.get(id);
        if (token == null) throw new IllegalArgumentException("token id " + id + " is not in " + file);
        return token;
    }

    /** Number of ids: one more than the largest id of the vocabulary and the added tokens. */
    public int vocabSize() {
        return tokensById.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int startOfTurnId() {
        return startOfTurnId;
    }

    public int endOfTurnId() {
        return endOfTurnId;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /**
     * Token string to id from {@code added_tokens} and {@code model.vocab}, read with a streaming parser (Gemma 3's
     * file is 33 MB, most of it merges that are skipped). The vocab is an object for BPE and WordLevel models and
     * an array of [token, score] for Unigram models, where the id is the index.
     */
    private static Map<String, Integer> readVocabulary(Path file) {
        Map<String, Integer> vocab = new HashMap<>();
        boolean sawModel = false;
        try (InputStream in = Files.newInputStream(file); JsonParser p = new JsonFactory().createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if ("added_tokens".equals(field) && p.currentToken() == JsonToken.START_ARRAY) {
                    readAddedTokens(p, vocab);
                } else if ("model".equals(field) && p.currentToken() == JsonToken.START_OBJECT) {
                    sawModel = true;
                    readModelVocab(p, vocab);
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
        }
        if (!sawModel || vocab.isEmpty()) throw new IllegalArgumentException(file + ": no model vocabulary (not a Hugging Face tokenizer.json?)");
        return vocab;
    }

    private static void readAddedTokens(JsonParser p, Map<String, Integer> vocab) throws IOException {
        while (p.nextToken() == JsonToken.START_OBJECT) {
            Integer id = null;
            String content = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if ("id".equals(name)) id = p.getIntValue();
                else if ("content".equals(name)) content = p.getText();
                else p.skipChildren();
            }
            if (id == null || content == null) throw new IOException("added token without id or content near " + p.currentLocation());
            vocab.put(content, id);
        }
    }

    private static void readModelVocab(JsonParser p, Map<String, Integer> vocab) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if (!"vocab".equals(name)) {
                p.skipChildren();
            } else if (value == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String token = p.currentName();
                    p.nextToken();
                    vocab.putIfAbsent(token, p.getIntValue());
                }
            } else if (value == JsonToken.START_ARRAY) {
                int index = 0;
                while (p.nextToken() == JsonToken.START_ARRAY) {
                    p.nextToken();
                    vocab.putIfAbsent(p.getText(), index++);
                    p.skipChildren();
                    while (p.nextToken() != JsonToken.END_ARRAY) p.skipChildren();
                }
            } else {
                throw new IOException("model.vocab is neither an object nor an array");
            }
        }
    }
}
