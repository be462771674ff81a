package org.refusallab.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** SHA-256 of every file under a folder (or of one file), by relative path: "byte for byte intact" is an equal map. */
final class Digests {

    private Digests() { }

    static Map<String, String> of(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        if (Files.isRegularFile(root)) {
            out.put("", HexFormat.of().formatHex(md.digest(Files.readAllBytes(root))));
            return out;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted().toList()) {
                String rel = root.relativize(p).toString();
                out.put(rel, Files.isRegularFile(p) ? HexFormat.of().formatHex(md.digest(Files.readAllBytes(p))) : "dir");
            }
        }
        return out;
    }

    /** The latest run folder of a report (where index.html points). */
    static Path latest(Path site) throws Exception {
        return org.refusallab.report.SiteHistory.latestRun(site);
    }

    static String page(Path site, String page) throws Exception {
        Path run = latest(site);
        return run == null || !Files.exists(run.resolve(page)) ? "" : Files.readString(run.resolve(page));
    }
}
