package org.refusallab.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.refusallab.checkpoint.CheckpointDigest;
import org.refusallab.platform.StudyConfig;

/**
 * The set-up checks a run passes before anything runs or is published: every data file the study names (its
 * {@code datasets}, and every parameter whose value is a {@code .jsonl}, {@code .json} or {@code .txt} path under the
 * configuration folder) exists, is readable UTF-8, and, for JSON Lines and JSON, parses. A failure is an
 * IllegalArgumentException naming the file (and line), so {@code run} exits 1 with the report untouched. The hash of
 * study.json and those files identifies the study configuration a report was made with.
 */
final class StudySetup {

    private static final ObjectMapper JSON = new ObjectMapper();

    private StudySetup() { }

    /** Checks the study's data files; returns them by the key that names them (e.g. "study.pairs", "dataset harmful"). */
    static Map<String, Path> check(StudyConfig study, Path configDir) {
        Map<String, Path> files = new TreeMap<>();
        study.datasets().forEach((name, file) -> files.put("dataset " + name, configDir.resolve(file).normalize()));
        collect("parameter ", study.parameters(), configDir, files);
        study.analyses().forEach((id, a) -> collect("analyses." + id + " parameter ", a.parameters(), configDir, files));
        for (var e : files.entrySet()) checkFile(e.getKey(), e.getValue());
        return files;
    }

    /** A parameter value that is a data file path: no spaces, no list separator, a known extension. */
    private static final java.util.regex.Pattern DATA_FILE = java.util.regex.Pattern.compile("[^\\s|]+\\.(jsonl|json|txt)");

    private static void collect(String prefix, Map<String, String> params, Path configDir, Map<String, Path> into) {
        for (var e : params.entrySet()) {
            String v = e.getValue() == null ? "" : e.getValue().trim();
            if (DATA_FILE.matcher(v).matches()) into.put(prefix + e.getKey(), configDir.resolve(v).normalize());
        }
    }

    private static void checkFile(String what, Path f) {
        if (!Files.exists(f)) throw new IllegalArgumentException(f + " (" + what + ") does not exist");
        if (!Files.isRegularFile(f) || !Files.isReadable(f)) throw new IllegalArgumentException(f + " (" + what + ") is not a readable file");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(f))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(f + " (" + what + ") is not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + f + " (" + what + "): " + e.getMessage());
        }
        String name = f.getFileName().toString();
        if (name.endsWith(".jsonl")) {
            List<String> lines = text.lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                try {
                    JSON.readTree(lines.get(i));
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(f + " line " + (i + 1) + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
            }
        } else if (name.endsWith(".json")) {
            try {
                JSON.readTree(text);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(f + ": not valid JSON (" + e.getOriginalMessage() + ", line " + e.getLocation().getLineNr() + ")");
            }
        }
    }

    /** SHA-256 over study.json and the checked data files (name and bytes, in key order). */
    static String configurationHash(Path studyFile, Map<String, Path> files) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Files.exists(studyFile) ? Files.readAllBytes(studyFile) : new byte[0]);
            for (var e : files.entrySet()) {
                md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                md.update(Files.readAllBytes(e.getValue()));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the study configuration: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * SHA-256 over every file of a checkpoint folder (relative name and bytes). Cached in {@code cache} by path, size
     * and modification time, so a 5 GB checkpoint is read once, not at every run.
     */
    static String checkpointHash(Path modelDir, Path cache) {
        try {
            List<Path> files = CheckpointDigest.files(modelDir);
            StringBuilder key = new StringBuilder(modelDir.toString());
            for (Path f : files) key.append('|').append(modelDir.relativize(f)).append(':').append(Files.size(f)).append(':').append(Files.getLastModifiedTime(f).toMillis());
            String keyHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.toString().getBytes(StandardCharsets.UTF_8)));
            Path cached = cache.resolve(keyHash);
            if (Files.isRegularFile(cached)) return Files.readString(cached).trim();
            String hash = CheckpointDigest.sha256(modelDir);
            Files.createDirectories(cache);
            Files.writeString(cached, hash + "\n");
            return hash;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the checkpoint " + modelDir + ": " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
