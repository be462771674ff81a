package org.refusallab.study.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.refusallab.api.study.PromptPair;

/**
 * Prompt sets from runtime-config files. JSONL: one object per line, {@code {"instruction": ...}} for a single set
 * and {@code {"harmful": ..., "harmless": ...}} for pairs (blank lines skipped). CSV: a header row naming the same
 * columns. Errors name the file and the line.
 */
final class PromptSets {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CsvMapper CSV = new CsvMapper();

    private PromptSets() { }

    public static List<PromptPair> readPairs(Path file) {
        List<PromptPair> pairs = new ArrayList<>();
        for (Record r : records(file)) {
            pairs.add(new PromptPair(r.field("harmful"), r.field("harmless")));
        }
        if (pairs.isEmpty()) throw new IllegalArgumentException(file + ": no prompt pairs");
        return pairs;
    }

    public static List<String> readInstructions(Path file) {
        List<String> out = new ArrayList<>();
        for (Record r : records(file)) out.add(r.field("instruction"));
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no instructions");
        return out;
    }

    /** One row of a prompt file with its line number, for error messages. */
    private record Record(Path file, int line, Map<String, String> values) {
        String field(String name) {
            String v = values.get(name);
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException(file + " line " + line + ": missing or empty field '" + name + "' (has " + values.keySet() + ")");
            }
            return v;
        }
    }

    private static List<Record> records(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("prompt file not found: " + file);
        String name = file.getFileName().toString().toLowerCase();
        try {
            if (name.endsWith(".jsonl")) return jsonl(file);
            if (name.endsWith(".csv")) return csv(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(file + ": unknown prompt file type (use .jsonl or .csv)");
    }

    private static List<Record> jsonl(Path file) throws IOException {
        List<Record> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (node == null || !node.isObject()) throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected a JSON object");
            Map<String, String> values = new java.util.LinkedHashMap<>();
            node.fields().forEachRemaining(f -> {
                if (f.getValue().isTextual()) values.put(f.getKey(), f.getValue().asText());
            });
            out.add(new Record(file, i + 1, values));
        }
        return out;
    }

    private static List<Record> csv(Path file) throws IOException {
        List<Record> out = new ArrayList<>();
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        try (MappingIterator<Map<String, String>> it = CSV.readerFor(Map.class).with(schema).readValues(file.toFile())) {
            while (true) {
                int line;
                Map<String, String> row;
                try {
                    if (!it.hasNextValue()) break;
                    row = it.nextValue();
                    line = it.getCurrentLocation().getLineNr();
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException(file + " near line " + it.getCurrentLocation().getLineNr() + ": " + e.getMessage(), e);
                }
                // the parser has consumed the row's line terminator, so the row's own line is the previous one
                out.add(new Record(file, Math.max(2, line - 1), row));
            }
        }
        return out;
    }
}
