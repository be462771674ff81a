package org.refusallab.testkit.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.refusallab.api.model.TextTokenizer;

/**
 * The test checkpoint's word-level tokenizer, read from its Hugging Face tokenizer.json (WordLevel model): special
 * tokens written in the text, newlines and punctuation are single tokens, words are split on spaces, anything
 * not in the vocabulary is {@code <unk>}. Decoding joins tokens with spaces.
 */
public final class WordTokenizer implements TextTokenizer {

    private static final Pattern PIECES = Pattern.compile("<[a-z_]+>|\n|[^\\w\\s]|\\w+");

    private final Map<String, Integer> vocab = new HashMap<>();
    private final Map<Integer, String> byId = new HashMap<>();
    private final Set<Integer> specials = new HashSet<>();
    private final int unk;

    public WordTokenizer(InputStream tokenizerJson) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson);
        root.path("model").path("vocab").fields().forEachRemaining(e -> {
            vocab.put(e.getKey(), e.getValue().asInt());
            byId.put(e.getValue().asInt(), e.getKey());
        });
        for (JsonNode t : root.path("added_tokens")) if (t.path("special").asBoolean()) specials.add(t.path("id").asInt());
        unk = vocab.get(root.path("model").path("unk_token").asText());
    }

    @Override
    public int[] encode(String text) {
        List<Integer> ids = new ArrayList<>();
        Matcher m = PIECES.matcher(text);
        while (m.find()) ids.add(vocab.getOrDefault(m.group(), unk));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (skipSpecialTokens && specials.contains(id)) continue;
            if (sb.length() > 0) sb.append(' ');
            sb.append(tokenString(id));
        }
        return sb.toString();
    }

    @Override
    public int tokenId(String token) {
        Integer id = vocab.get(token);
        if (id == null) throw new IllegalArgumentException("no token '" + token + "' in the test vocabulary");
        return id;
    }

    @Override
    public String tokenString(int id) {
        String s = byId.get(id);
        if (s == null) throw new IllegalArgumentException("no token id " + id);
        return s;
    }
}
