package org.refusallab.toymodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.refusallab.tokenizer.HfTokenizer;

/** The written toy tokenizer, loaded through HfTokenizer (the Rust tokenizers library). */
class ToyTokenizerTest {

    private static final ToyCorpus CORPUS = ToyCorpus.generate(ToyCorpus.DEFAULT_SEED);
    private static Path dir;
    private static HfTokenizer tokenizer;
    private static JsonNode json;
    /** model.vocab of the written file, read with Jackson. */
    private static final Map<String, Integer> VOCAB = new HashMap<>();

    @BeforeAll
    static void write() throws IOException {
        dir = Files.createTempDirectory("toy-tokenizer");
        ToyTokenizerWriter.write(dir, CORPUS);
        json = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        json.path("model").path("vocab").fields().forEachRemaining(e -> VOCAB.put(e.getKey(), e.getValue().asInt()));
        tokenizer = HfTokenizer.load(dir);
    }

    @AfterAll
    static void close() throws IOException {
        if (tokenizer != null) tokenizer.close();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.delete(f);
        }
        Files.delete(dir);
    }

    @Test
    void specialTokensHaveGemmasIds() {
        assertEquals(0, tokenizer.padId());
        assertEquals(1, tokenizer.eosId());
        assertEquals(2, tokenizer.bosId());
        assertEquals(3, tokenizer.tokenId("<unk>"));
        assertEquals(4, tokenizer.startOfTurnId());
        assertEquals(5, tokenizer.endOfTurnId());
        assertEquals(6, tokenizer.tokenId("\n"));
        assertArrayEquals(new int[] {6}, tokenizer.encode("\n"));
        assertArrayEquals(new int[] {2, 4}, tokenizer.encode("<bos><start_of_turn>"));
        // ids are dense: 0..n-1
        assertEquals(VOCAB.size(), tokenizer.vocabSize());
        assertEquals(VOCAB.size(), new java.util.HashSet<>(VOCAB.values()).size());
    }

    @Test
    void everyCorpusWordIsOneTokenWithItsVocabId() {
        for (String text : CORPUS.allTexts()) {
            List<String> words = ToyTokenizerWriter.words(text);
            assertEquals(words, List.of(tokenizer.tokens(text)), text);
            int[] expected = words.stream().mapToInt(w -> {
                Integer id = VOCAB.get(w);
                assertTrue(id != null, w + " is in the vocab");
                return id;
            }).toArray();
            assertArrayEquals(expected, tokenizer.encode(text), text);
        }
        // the first token of a refusal: "I" without a space, as after "model\n"
        assertEquals(VOCAB.get("I"), tokenizer.tokenId("I"));
        assertArrayEquals(new int[] {VOCAB.get("\n"), VOCAB.get("I"), VOCAB.get("'m"), VOCAB.get("\u2581sorry")}, tokenizer.encode("\nI'm sorry"));
    }

    @Test
    void seedSubjectsAreSingleTokens() {
        for (String word : List.of("bomb", "table", "gang", "business", "drugs", "clothes")) {
            assertArrayEquals(new int[] {VOCAB.get("\u2581" + word)}, tokenizer.encode(" " + word), word);
        }
    }

    @Test
    void pairsDifferInExactlyOnePosition() {
        List<ToyCorpus.Pair> pairs = new ArrayList<>(CORPUS.seedPairs());
        pairs.addAll(CORPUS.heldOutPairs());
        for (String template : ToyCorpus.pairedTemplates()) {
            for (List<String> subjects : ToyCorpus.subjectPairs()) {
                pairs.add(new ToyCorpus.Pair(template.replace("{}", subjects.get(0)), template.replace("{}", subjects.get(1)), "", template));
            }
        }
        for (ToyCorpus.Pair pair : pairs) {
            int[] harmful = tokenizer.encodeChat(pair.harmful());
            int[] harmless = tokenizer.encodeChat(pair.harmless());
            assertEquals(harmful.length, harmless.length, pair.harmful());
            int differing = 0;
            for (int i = 0; i < harmful.length; i++) if (harmful[i] != harmless[i]) differing++;
            assertEquals(1, differing, pair.harmful() + " / " + pair.harmless());
        }
    }

    @Test
    void chatPromptHasTheTemplateTokens() {
        int[] ids = tokenizer.encodeChat("Develop a plan to start a gang");
        int n = ids.length;
        assertArrayEquals(new int[] {2, 4, VOCAB.get("user"), 6}, java.util.Arrays.copyOf(ids, 4));
        assertArrayEquals(new int[] {VOCAB.get("\u2581gang"), 5, 6, 4, VOCAB.get("model"), 6}, java.util.Arrays.copyOfRange(ids, n - 6, n));
    }

    @Test
    void decodeOfEncodeIsExactOnTheCorpusAndBeyond() {
        for (ToyCorpus.Example e : CORPUS.train()) {
            String chat = tokenizer.chatPrompt(e.instruction()) + e.response() + "<end_of_turn>\n";
            assertEquals(chat, tokenizer.decode(tokenizer.encode(chat), false));
            assertEquals(e.response(), tokenizer.decode(tokenizer.encode(e.response()), true));
        }
        for (String text : CORPUS.allTexts()) assertEquals(text, tokenizer.decode(tokenizer.encode(text), false), text);
        // words and characters the corpus never uses fall back to bytes, so they round-trip too
        String unseen = "Zebra  crossings, naïve café 日本 🙂\ttabs";
        int[] ids = tokenizer.encode(unseen);
        assertEquals(unseen, tokenizer.decode(ids, false));
        for (int id : ids) assertNotEquals(3, id, "no <unk> with byte fallback");
        assertEquals("user\nhello\n", tokenizer.decode(tokenizer.encode("<bos><start_of_turn>user\nhello<end_of_turn>\n"), true));
    }

    @Test
    void longInputsAreNotTruncatedDespiteTheConfigsModelMaxLength() {
        // tokenizer_config.json says model_max_length 512; HfTokenizer must not truncate to it
        String text = " table".repeat(1000);
        int[] ids = tokenizer.encode(text);
        assertEquals(1000, ids.length);
        for (int id : ids) assertEquals(VOCAB.get("\u2581table"), id);
    }

    @Test
    void refusalsStartWithTheTokenIAndSoDoSomeAnswers() {
        int i = tokenizer.tokenId("I");
        int answersWithI = 0;
        for (ToyCorpus.Example e : CORPUS.train()) {
            int[] prompt = tokenizer.encodeChat(e.instruction());
            int[] full = tokenizer.encode(tokenizer.chatPrompt(e.instruction()) + e.response());
            assertArrayEquals(prompt, java.util.Arrays.copyOf(full, prompt.length), "the prompt's tokens do not change when the response follows");
            if (e.harmful()) {
                assertEquals(i, full[prompt.length], e.response());
            } else if (full[prompt.length] == i) {
                // a compliant answer may begin with "I" ("I'd start by", "I can help"): "I" is no refusal marker alone
                answersWithI++;
                assertTrue(e.response().startsWith("I'd ") || e.response().startsWith("I can help"), e.response());
            }
        }
        assertTrue(answersWithI > 0);
    }

    @Test
    void sequencesFitFiftySixTokens() {
        int longest = 0;
        String longestText = "";
        for (ToyCorpus.Example e : CORPUS.train()) {
            String text = tokenizer.chatPrompt(e.instruction()) + e.response() + "<end_of_turn>";
            int length = tokenizer.encode(text).length;
            if (length > longest) {
                longest = length;
                longestText = text;
            }
        }
        for (String s : CORPUS.harmfulEval()) longest = Math.max(longest, tokenizer.encodeChat(s).length);
        for (String s : CORPUS.harmlessEval()) longest = Math.max(longest, tokenizer.encodeChat(s).length);
        assertTrue(longest <= 56, "longest sequence: " + longest + " tokens: " + longestText);
    }

    @Test
    void jsonIsGemmasArchitectureAndTheConfigHasGemmasChatTemplate() throws IOException {
        assertEquals("BPE", json.path("model").path("type").asText());
        assertTrue(json.path("model").path("byte_fallback").asBoolean());
        assertEquals("Replace", json.path("normalizer").path("type").asText());
        assertTrue(json.path("pre_tokenizer").isNull());
        assertEquals(256, VOCAB.keySet().stream().filter(t -> t.matches("<0x[0-9A-F]{2}>")).count());
        JsonNode config = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("GemmaTokenizer", config.path("tokenizer_class").asText());
        assertEquals("<bos>", config.path("bos_token").asText());
        assertEquals("<eos>", config.path("eos_token").asText());
        assertEquals("<pad>", config.path("pad_token").asText());
        assertEquals("<unk>", config.path("unk_token").asText());
        // gemma-2b-it's template, as published in its tokenizer_config.json
        assertEquals("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
                + "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
                + "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
                + "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
                + "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}", config.path("chat_template").asText());
        JsonNode map = new ObjectMapper().readTree(dir.resolve("special_tokens_map.json").toFile());
        assertEquals("<bos>", map.path("bos_token").path("content").asText());
        assertEquals("<start_of_turn>", map.path("additional_special_tokens").get(0).asText());
    }
}
