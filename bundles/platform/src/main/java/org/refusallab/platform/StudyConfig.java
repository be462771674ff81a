package org.refusallab.platform;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * runtime-config/study.json: the study's name, the parameters every analysis sees, the data sets it reads, and per
 * analysis an enabled flag and parameters of its own.
 *
 * <pre>{
 *   "name": "...",
 *   "parameters": { "key": value, ... },          // flattened: nested objects become dotted keys
 *   "datasets": { "harmful": "prompts/harmful_train.txt", ... },
 *   "analyses": { "example": { "enabled": true, "parameters": { "token": "I" } } }
 * }</pre>
 */
public record StudyConfig(Path file, String name, Map<String, String> parameters, Map<String, String> datasets,
                          Map<String, AnalysisSettings> analyses) {

    public record AnalysisSettings(boolean enabled, Map<String, String> parameters) {
        static final AnalysisSettings DEFAULT = new AnalysisSettings(true, Map.of());
    }

    public AnalysisSettings settings(String analysisId) {
        return analyses.getOrDefault(analysisId, AnalysisSettings.DEFAULT);
    }

    public static StudyConfig empty(Path file) {
        return new StudyConfig(file, "refusal-lab study", Map.of(), Map.of(), Map.of());
    }

    public static StudyConfig load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            return empty(file);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": expected a JSON object at the top");
        Map<String, String> params = flatten(file, "parameters", root.get("parameters"));
        Map<String, String> datasets = flatten(file, "datasets", root.get("datasets"));
        Map<String, AnalysisSettings> analyses = new LinkedHashMap<>();
        JsonNode a = root.get("analyses");
        if (a != null && !a.isNull()) {
            if (!a.isObject()) throw new IllegalArgumentException(file + ": \"analyses\" must be an object of analysis id to settings");
            for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                var e = it.next();
                JsonNode s = e.getValue();
                if (!s.isObject()) throw new IllegalArgumentException(file + ": analyses." + e.getKey() + " must be an object");
                JsonNode enabled = s.get("enabled");
                if (enabled != null && !enabled.isBoolean()) {
                    throw new IllegalArgumentException(file + ": analyses." + e.getKey() + ".enabled must be true or false, got " + enabled);
                }
                analyses.put(e.getKey(), new AnalysisSettings(enabled == null || enabled.booleanValue(),
                        flatten(file, "analyses." + e.getKey() + ".parameters", s.get("parameters"))));
            }
        }
        String name = root.path("name").asText("refusal-lab study");
        return new StudyConfig(file, name, params, datasets, analyses);
    }

    private static Map<String, String> flatten(Path file, String where, JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) return out;
        if (!node.isObject()) throw new IllegalArgumentException(file + ": \"" + where + "\" must be an object");
        flattenInto("", node, out);
        return out;
    }

    private static void flattenInto(String prefix, JsonNode node, Map<String, String> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            String key = prefix + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                flattenInto(key + ".", v, out);
            } else if (v.isArray()) {
                // lists become "a|b|c", the separator analyses split on (see ExampleAnalysis "prompts")
                StringBuilder sb = new StringBuilder();
                for (JsonNode item : v) sb.append(sb.length() == 0 ? "" : "|").append(item.asText());
                out.put(key, sb.toString());
            } else {
                out.put(key, v.asText());
            }
        }
    }
}
