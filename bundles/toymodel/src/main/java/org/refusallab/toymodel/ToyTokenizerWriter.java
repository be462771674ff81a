package org.refusallab.toymodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the toy model's Hugging Face tokenizer files: tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json.
 *
 * <p>The tokenizer has Gemma's architecture, so that it loads as a Gemma tokenizer anywhere: spaces normalized to
 * {@code ▁}, no pre-tokenizer, a BPE model with byte fallback ({@code <0x00>..<0xFF>}: any text round-trips), and
 * the decoder Replace({@code ▁}, " "), ByteFallback, Fuse. Gemma's special tokens keep Gemma's ids
 * ({@code <pad>} 0, {@code <eos>} 1, {@code <bos>} 2, {@code <unk>} 3), then {@code <start_of_turn>} 4,
 * {@code <end_of_turn>} 5 and {@code "\n"} 6.
 *
 * <p>The merges are learned by byte-pair-encoding training on the corpus's words (a word is a run of letters and
 * digits with its leading {@code ▁}, an apostrophe suffix like {@code 'm}, or a single other character) until every
 * word is one token. Since {@code ▁} and apostrophes only ever begin a word and other characters are never merged,
 * no merge can join two words, so the BPE model without a pre-tokenizer reproduces this word split.
 */
public final class ToyTokenizerWriter {

    public static final String SPACE = "\u2581";
    /** Special tokens at their ids. */
    public static final List<String> SPECIAL_TOKENS = List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>");
    public static final String NEWLINE = "\n";

    /** gemma-2b-it's chat template (tokenizer_config.json). */
    public static final String CHAT_TEMPLATE = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
            + "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
            + "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

    private static final Pattern SPECIAL = Pattern.compile("<pad>|<eos>|<bos>|<unk>|<start_of_turn>|<end_of_turn>");
    /** Word split used for training the merges (on normalized text, spaces already {@code ▁}). */
    private static final Pattern WORD = Pattern.compile(SPACE + "?[A-Za-z0-9]+|'[A-Za-z]+|[\\s\\S]");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ToyTokenizerWriter() { }

    /** The learned vocabulary (token to id) and merges, in order. */
    public record Bpe(Map<String, Integer> vocab, List<String[]> merges) { }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
    public static void write(Path dir, ToyCorpus corpus) {
        Bpe bpe = learn(chatTexts(corpus));
        try {
            Files.createDirectories(dir);
            JSON.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizerJson(bpe));
            JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), tokenizerConfig());
            JSON.writeValue(dir.resolve("special_tokens_map.json").toFile(), specialTokensMap());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the toy tokenizer to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The texts the model sees, in Gemma's chat format: every training conversation, and every other instruction
     * as a prompt (so the vocabulary has the chat format's words {@code user} and {@code model}).
     */
    static List<String> chatTexts(ToyCorpus corpus) {
        List<String> texts = new ArrayList<>();
        for (ToyCorpus.Example e : corpus.train()) texts.add(chatPrompt(e.instruction()) + e.response() + "<end_of_turn>\n");
        for (String text : corpus.allTexts()) texts.add(chatPrompt(text));
        return texts;
    }

    /** Gemma's chat prompt, as {@link org.refusallab.api.model.TextTokenizer#chatPrompt(String)} writes it. */
    private static String chatPrompt(String instruction) {
        return "<bos><start_of_turn>user\n" + instruction + "<end_of_turn>\n<start_of_turn>model\n";
    }

    /** The words of a text as the tokenizer should see them: special tokens whole, then the word split. */
    public static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        Matcher special = SPECIAL.matcher(text);
        int start = 0;
        while (special.find()) {
            splitWords(text.substring(start, special.start()), words);
            words.add(special.group());
            start = special.end();
        }
        splitWords(text.substring(start), words);
        return words;
    }

    private static void splitWords(String text, List<String> out) {
        Matcher m = WORD.matcher(text.replace(" ", SPACE));
        while (m.find()) out.add(m.group());
    }

    /** Learns merges on the words of the texts until every word is a single token. */
    public static Bpe learn(List<String> texts) {
        // word -> frequency, in a sorted map so that training is deterministic
        Map<String, Integer> frequency = new TreeMap<>();
        for (String text : texts) {
            for (String word : words(text)) {
                if (!SPECIAL_TOKENS.contains(word)) frequency.merge(word, 1, Integer::sum);
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String special : SPECIAL_TOKENS) vocab.put(special, vocab.size());
        vocab.put(NEWLINE, vocab.size());
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), vocab.size());
        TreeSet<String> characters = new TreeSet<>();
        List<List<String>> symbols = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : frequency.entrySet()) {
            List<String> chars = new ArrayList<>();
            e.getKey().codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            characters.addAll(chars);
            symbols.add(chars);
            counts.add(e.getValue());
        }
        for (String c : characters) vocab.putIfAbsent(c, vocab.size());

        List<String[]> merges = new ArrayList<>();
        while (true) {
            // the most frequent adjacent pair; ties broken by the pair's text, for determinism
            Map<String, Integer> pairCounts = new HashMap<>();
            for (int w = 0; w < symbols.size(); w++) {
                List<String> s = symbols.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pairCounts.merge(s.get(i) + " " + s.get(i + 1), counts.get(w), Integer::sum);
            }
            if (pairCounts.isEmpty()) break;
            String best = null;
            int bestCount = -1;
            for (Map.Entry<String, Integer> e : pairCounts.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            String[] pair = best.split(" ", -1);
            String merged = pair[0] + pair[1];
            merges.add(pair);
            vocab.putIfAbsent(merged, vocab.size());
            for (List<String> s : symbols) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(pair[0]) && s.get(i + 1).equals(pair[1])) {
                        s.set(i, merged);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return new Bpe(vocab, merges);
    }

    private static ObjectNode tokenizerJson(Bpe bpe) {
        ObjectNode root = NODES.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : SPECIAL_TOKENS) {
            ObjectNode token = added.addObject();
            token.put("id", bpe.vocab().get(special));
            token.put("content", special);
            token.put("single_word", false);
            token.put("lstrip", false);
            token.put("rstrip", false);
            token.put("normalized", false);
            token.put("special", true);
        }
        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Replace");
        normalizer.putObject("pattern").put("String", " ");
        normalizer.put("content", SPACE);
        root.putNull("pre_tokenizer");
        // as Gemma's: encoding with add_special_tokens prepends <bos>
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<bos>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pairTemplate = post.putArray("pair");
        pairTemplate.addObject().putObject("SpecialToken").put("id", "<bos>").put("type_id", 0);
        pairTemplate.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pairTemplate.addObject().putObject("SpecialToken").put("id", "<bos>").put("type_id", 1);
        pairTemplate.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject("<bos>");
        bos.put("id", "<bos>");
        bos.putArray("ids").add(bpe.vocab().get("<bos>"));
        bos.putArray("tokens").add("<bos>");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode replace = decoders.addObject();
        replace.put("type", "Replace");
        replace.putObject("pattern").put("String", SPACE);
        replace.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        bpe.vocab().forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        // "left right" strings: read by every tokenizers version (no token contains a space, spaces are \u2581)
        for (String[] merge : bpe.merges()) merges.add(merge[0] + " " + merge[1]);
        return root;
    }

    private static ObjectNode tokenizerConfig() {
        ObjectNode config = NODES.objectNode();
        config.put("add_bos_token", true);
        config.put("add_eos_token", false);
        ObjectNode decoderEntries = config.putObject("added_tokens_decoder");
        for (int id = 0; id < SPECIAL_TOKENS.size(); id++) {
            ObjectNode token = decoderEntries.putObject(Integer.toString(id));
            token.put("content", SPECIAL_TOKENS.get(id));
            token.put("lstrip", false);
            token.put("normalized", false);
            token.put("rstrip", false);
            token.put("single_word", false);
            token.put("special", true);
        }
        config.putArray("additional_special_tokens").add("<start_of_turn>").add("<end_of_turn>");
        config.put("bos_token", "<bos>");
        config.put("chat_template", CHAT_TEMPLATE);
        config.put("clean_up_tokenization_spaces", false);
        config.put("eos_token", "<eos>");
        config.put("model_max_length", 512);
        config.put("pad_token", "<pad>");
        config.put("spaces_between_special_tokens", false);
        config.put("tokenizer_class", "GemmaTokenizer");
        config.put("unk_token", "<unk>");
        config.put("use_default_system_prompt", false);
        return config;
    }

    private static ObjectNode specialTokensMap() {
        ObjectNode map = NODES.objectNode();
        map.putArray("additional_special_tokens").add("<start_of_turn>").add("<end_of_turn>");
        for (String[] entry : new String[][] {{"bos_token", "<bos>"}, {"eos_token", "<eos>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}}) {
            ObjectNode token = map.putObject(entry[0]);
            token.put("content", entry[1]);
            token.put("lstrip", false);
            token.put("normalized", false);
            token.put("rstrip", false);
            token.put("single_word", false);
        }
        return map;
    }
}
