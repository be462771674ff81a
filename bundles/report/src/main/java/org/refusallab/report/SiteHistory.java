package org.refusallab.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.platform.Section;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report folder ({@code --out}, default {@code site/}) with its history: every publish writes a complete site to
 * {@code runs/<time>/} (built in {@code runs/.building-<uuid>/} and renamed into place), then atomically replaces
 * {@code index.html}, which sends the browser to the latest run and lists the earlier ones. Nothing published is
 * ever overwritten; the newest {@value #KEEP_RUNS} runs are kept.
 *
 * <p>Ownership: the folder must be absent, empty, or carry the marker file {@value #MARKER} this class writes;
 * anything else is refused ({@link NotOwned}), so a user's folder is never written into or deleted from. The staging
 * folder lives inside the report folder (hidden, under {@code runs/}), never beside it, so a killed run leaves nothing
 * in the user's working tree outside the report folder; {@link #removeLeftovers} deletes it at the next start.
 *
 * <p>Keeping results: with the same checkpoint hash and study configuration hash as the latest run
 * ({@link Provenance}), a section that failed now shows its last successful result marked stale (with the run it came
 * from) if that result was made by the same analysis bundle and version; analyses present but not run (
 * {@code --only}) keep their last section. With another checkpoint or configuration nothing is carried: a report
 * never mixes models or configurations.
 */
public final class SiteHistory {

    private static final Logger LOG = LoggerFactory.getLogger(SiteHistory.class);
    public static final String MARKER = ".refusal-lab-report";
    static final int KEEP_RUNS = 50;
    static final String RUNS = "runs";
    static final String SECTIONS_FILE = "data/sections.json";
    private static final DateTimeFormatter RUN_ID = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final Pattern RUN_NAME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}Z(-\\d+)?");
    private static final Pattern LEGACY_STAGING = Pattern.compile("\\..+\\.(tmp|old)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    /** What the results were made with: the checkpoint's hash and the study configuration's hash. */
    public record Provenance(String checkpoint, String configuration) { }

    /** The carrying rules of one publish: keep stale results of failed analyses; analyses to keep though not run (id to bundle@version). */
    public record Carry(boolean staleResults, Map<String, String> keepNotRun) {
        public static final Carry NONE = new Carry(false, Map.of());
    }

    /** The folder named by --out is not one this tool may write. */
    public static final class NotOwned extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        NotOwned(String message) {
            super(message);
        }
    }

    /** One stored section: the section, the run its result came from, and whether it is shown as stale. */
    record Stored(String id, String title, int order, String bundle, String bundleVersion, Section.Status status, String error,
                  long tookMillis, Map<String, String> parameters, AnalysisResult result, String customTemplate, String fromRun,
                  List<String> assumptions) {
        static Stored of(Section s, String fromRun) {
            return new Stored(s.id(), s.title(), s.order(), s.bundle(), s.bundleVersion(), s.status(), s.error(),
                    s.took() == null ? 0 : s.took().toMillis(), s.parameters(), s.result(), s.customTemplate(), fromRun, s.assumptions());
        }

        Section section() {
            return new Section(id, title, order, bundle, bundleVersion, status, error, Duration.ofMillis(tookMillis), parameters, result,
                    customTemplate, assumptions);
        }
    }

    /** data/sections.json of a run: what it was made with and every section it showed (with where each result came from). */
    record StoredRun(String schema, String run, Provenance provenance, List<Stored> sections) { }

    private final SitePublisher publisher;
    private final int keepRuns;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public SiteHistory(SitePublisher publisher) {
        this(publisher, KEEP_RUNS);
    }

    /** @param keepRuns how many runs to keep (the newest) */
    public SiteHistory(SitePublisher publisher, int keepRuns) {
        this.publisher = publisher;
        this.keepRuns = keepRuns;
    }

    /**
     * Checks that {@code out} may be written: absent, an empty folder, a folder with the marker, or a report of an
     * earlier refusal-lab version (data/run.json of schema refusal-lab-run/1), which is moved into runs/ first.
     */
    public static void checkOwnership(Path out) throws IOException {
        if (!Files.exists(out)) return;
        if (!Files.isDirectory(out)) {
            throw new NotOwned("--out " + out + " is a file, not a folder: refusing to replace it (name a new or empty folder)");
        }
        if (Files.isRegularFile(out.resolve(MARKER))) return;
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isEmpty()) return;
        }
        if (isLegacyReport(out)) return;
        throw new NotOwned("--out " + out + " is a folder that refusal-lab did not write (no " + MARKER
                + " marker) and is not empty: refusing to write there (name a new or empty folder)");
    }

    private static boolean isLegacyReport(Path out) {
        Path runJson = out.resolve("data/run.json");
        try {
            return Files.isRegularFile(out.resolve("index.html")) && Files.isRegularFile(runJson)
                    && Files.readString(runJson).contains("\"schema\" : \"refusal-lab-run/1\"");
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes what a killed publish left: runs/.building-* inside the report, and the staging folders of earlier versions beside it. */
    public static void removeLeftovers(Path out) throws IOException {
        out = out.toAbsolutePath().normalize();
        Path runs = out.resolve(RUNS);
        if (Files.isDirectory(runs)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(runs, ".building-*")) {
                for (Path p : ds) {
                    SitePublisher.deleteTree(p);
                    LOG.info("removed {} (left by a run that was killed while publishing)", p);
                }
            }
        }
        if (Files.isDirectory(out)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(out, ".index.html.*")) {
                for (Path p : ds) Files.deleteIfExists(p);
            }
        }
        Path parent = out.getParent();
        if (parent != null && Files.isDirectory(parent)) {
            String name = out.getFileName().toString();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, "." + name + ".{tmp,old}-*")) {
                for (Path p : ds) {
                    if (!LEGACY_STAGING.matcher(p.getFileName().toString()).matches()) continue;
                    if (p.getFileName().toString().startsWith("." + name + ".old-") && !Files.exists(out)) {
                        Files.move(p, out, StandardCopyOption.ATOMIC_MOVE); // an interrupted swap of an earlier version
                    } else {
                        SitePublisher.deleteTree(p);
                    }
                }
            }
        }
    }

    /** The result of one publish. */
    public record Published(Path run, Report shown) { }

    /** Publishes {@code report} as a new run of {@code out}; see the class comment for what is carried over. */
    public synchronized Published publish(Report report, Path out, Provenance provenance, Carry carry) throws IOException {
        out = out.toAbsolutePath().normalize();
        checkOwnership(out);
        Files.createDirectories(out);
        if (!Files.exists(out.resolve(MARKER))) {
            if (isLegacyReport(out)) migrateLegacy(out);
            Files.writeString(out.resolve(MARKER), "This folder is a report written by refusal-lab, which owns it: each run adds runs/<time>/"
                    + " and rewrites index.html. Without this file refusal-lab refuses to write here.\n");
        }
        removeLeftovers(out);
        Path runs = Files.createDirectories(out.resolve(RUNS));
        Instant now = Instant.now();
        String runId = RUN_ID.format(now);
        for (int i = 2; Files.exists(runs.resolve(runId)); i++) runId = RUN_ID.format(now) + "-" + i;

        StoredRun previous = latest(out);
        Report shown = carryOver(report, runId, provenance, previous, carry);
        Path building = runs.resolve(".building-" + UUID.randomUUID());
        Files.createDirectory(building);
        try {
            publisher.build(shown, building);
            List<Stored> stored = new ArrayList<>();
            for (Section s : shown.sections()) {
                Report.Carried c = shown.carried().get(s.id());
                stored.add(Stored.of(s, c == null ? runId : c.fromRun()));
            }
            for (Report.Carried c : shown.carried().values()) {
                if (c.failedNow() != null) stored.add(Stored.of(c.failedNow(), runId)); // this run's own outcome, for the record
            }
            json.writeValue(building.resolve(SECTIONS_FILE).toFile(), new StoredRun("refusal-lab-sections/1", runId, provenance, stored));
            Files.move(building, runs.resolve(runId), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException | Error e) {
            SitePublisher.deleteTree(building);
            throw e;
        }
        writeIndex(out, shown.summary().title());
        prune(runs, keepRuns);
        LOG.info("report published to {} (run {})", out, runId);
        return new Published(runs.resolve(runId), shown);
    }

    /** The latest run folder of a report, or null. */
    public static Path latestRun(Path out) throws IOException {
        List<String> ids = runIds(out.resolve(RUNS));
        return ids.isEmpty() ? null : out.resolve(RUNS).resolve(ids.get(ids.size() - 1));
    }

    static List<String> runIds(Path runs) throws IOException {
        if (!Files.isDirectory(runs)) return List.of();
        try (Stream<Path> s = Files.list(runs)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> RUN_NAME.matcher(n).matches()).sorted().toList();
        }
    }

    private StoredRun latest(Path out) {
        try {
            Path run = latestRun(out);
            if (run == null || !Files.isRegularFile(run.resolve(SECTIONS_FILE))) return null;
            return json.readValue(run.resolve(SECTIONS_FILE).toFile(), StoredRun.class);
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot read the previous run's sections of {}: {} (nothing is carried over)", out, e.toString());
            return null;
        }
    }

    private static Report carryOver(Report report, String runId, Provenance provenance, StoredRun previous, Carry carry) {
        if (previous == null || !provenance.equals(previous.provenance())) {
            if (previous != null) LOG.info("the previous run used another checkpoint or configuration: nothing is carried over");
            return report;
        }
        Map<String, Stored> before = new LinkedHashMap<>();
        for (Stored s : previous.sections()) if (s.status() == Section.Status.OK) before.putIfAbsent(s.id(), s);
        List<Section> sections = new ArrayList<>();
        Map<String, Report.Carried> carried = new LinkedHashMap<>(report.carried());
        for (Section s : report.sections()) {
            Stored p = before.get(s.id());
            if (s.failed() && carry.staleResults() && p != null && p.bundle().equals(s.bundle()) && p.bundleVersion().equals(s.bundleVersion())) {
                sections.add(p.section());
                carried.put(s.id(), new Report.Carried(p.fromRun(), s));
            } else {
                sections.add(s);
            }
        }
        for (var e : carry.keepNotRun().entrySet()) {
            if (sections.stream().anyMatch(s -> s.id().equals(e.getKey()))) continue;
            Stored p = previous.sections().stream().filter(s -> s.id().equals(e.getKey()) && s.result() != null).findFirst().orElse(null);
            if (p != null && e.getValue().equals(p.bundle() + "@" + p.bundleVersion())) {
                sections.add(p.section());
                carried.put(p.id(), new Report.Carried(p.fromRun(), null));
            }
        }
        sections.sort(Comparator.comparingInt(Section::order).thenComparing(Section::id));
        return new Report(report.summary(), sections, carried);
    }

    /** index.html: sends the browser to the latest run (relative link, works from file://) and lists every run. */
    private static void writeIndex(Path out, String title) throws IOException {
        List<String> ids = new ArrayList<>(runIds(out.resolve(RUNS)));
        java.util.Collections.reverse(ids);
        String latest = RUNS + "/" + ids.get(0) + "/index.html";
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"refresh\" content=\"0; url=").append(latest).append("\">\n")
                .append("<title>").append(escape(title)).append("</title>\n</head>\n<body>\n")
                .append("<h1>").append(escape(title)).append("</h1>\n<p>Latest run: <a id=\"latest\" href=\"").append(latest).append("\">")
                .append(ids.get(0)).append("</a></p>\n<h2>All runs</h2>\n<ul id=\"runs\">\n");
        for (String id : ids) sb.append("<li><a href=\"").append(RUNS).append('/').append(id).append("/index.html\">").append(id).append("</a></li>\n");
        sb.append("</ul>\n</body>\n</html>\n");
        Path tmp = out.resolve(".index.html." + UUID.randomUUID());
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, out.resolve("index.html"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void prune(Path runs, int keep) throws IOException {
        List<String> ids = runIds(runs);
        for (int i = 0; i < ids.size() - keep; i++) SitePublisher.deleteTree(runs.resolve(ids.get(i)));
    }

    /** A report of an earlier version (a site at the top of the folder): moved, not deleted, into runs/&lt;time&gt;-legacy. */
    private static void migrateLegacy(Path out) throws IOException {
        Path runs = Files.createDirectories(out.resolve(RUNS));
        String id = RUN_ID.format(Files.getLastModifiedTime(out.resolve("index.html")).toInstant());
        Path target = runs.resolve(id);
        for (int i = 2; Files.exists(target); i++) target = runs.resolve(id + "-" + i);
        Files.createDirectory(target);
        try (Stream<Path> s = Files.list(out)) {
            for (Path p : s.toList()) if (!p.getFileName().toString().equals(RUNS)) Files.move(p, target.resolve(p.getFileName()));
        }
        LOG.warn("moved the report of an earlier refusal-lab version in {} to {}", out, target);
    }

    private static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
