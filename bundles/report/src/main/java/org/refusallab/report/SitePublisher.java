package org.refusallab.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Finding;
import org.refusallab.api.result.Table;
import org.refusallab.platform.Section;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.thymeleaf.TemplateEngine;
import org.thymeleaf.context.Context;
import org.thymeleaf.templatemode.TemplateMode;
import org.thymeleaf.templateresolver.ClassLoaderTemplateResolver;
import org.thymeleaf.templateresolver.StringTemplateResolver;

/**
 * Writes the static report: index.html, one page per analysis, the figures' data as JSON and CSV, and the assets
 * (ECharts included, so the site opens offline from file://).
 *
 * <p>The site is built in a hidden folder beside the target and swapped in only once complete (old site renamed
 * away, new one renamed in, old one deleted), so a run that fails or is killed while publishing leaves the previous
 * report as it was.
 */
public class SitePublisher {

    private static final Logger LOG = LoggerFactory.getLogger(SitePublisher.class);
    static final String ECHARTS_VERSION = "5.3.1";
    private static final String ECHARTS = "META-INF/resources/webjars/echarts/" + ECHARTS_VERSION + "/dist/echarts.min.js";
    private static final String TEMPLATES = "report-templates/";
    private static final List<String> ASSETS = List.of("report.css", "report.js");

    private final TemplateEngine engine;
    /** Renders an analysis's own fragment (a template given as text) with its result. */
    private final TemplateEngine customEngine;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final CsvMapper csv = new CsvMapper();

    public SitePublisher() {
        ClassLoaderTemplateResolver resolver = new ClassLoaderTemplateResolver(SitePublisher.class.getClassLoader());
        resolver.setPrefix(TEMPLATES);
        resolver.setSuffix(".html");
        resolver.setTemplateMode(TemplateMode.HTML);
        resolver.setCharacterEncoding("UTF-8");
        resolver.setCacheable(true);
        engine = new TemplateEngine();
        engine.setTemplateResolver(resolver);
        StringTemplateResolver strings = new StringTemplateResolver();
        strings.setTemplateMode(TemplateMode.HTML);
        strings.setCacheable(false);
        customEngine = new TemplateEngine();
        customEngine.setTemplateResolver(strings);
    }

    /** Publishes {@code report} to {@code target} (e.g. site/), replacing what was there only on success. */
    public synchronized void publish(Report report, Path target) throws IOException {
        target = target.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        recoverInterruptedSwap(target);
        String name = target.getFileName().toString();
        Path building = parent.resolve("." + name + ".tmp-" + UUID.randomUUID());
        Files.createDirectory(building);
        try {
            build(report, building);
        } catch (IOException | RuntimeException | Error e) {
            deleteTree(building);
            throw e;
        }
        swapIn(building, target);
        LOG.info("report published to {}", target);
    }

    /** Writes the whole site into the empty folder {@code site} (SiteHistory builds its runs with it). */
    void build(Report report, Path site) throws IOException {
        Path assets = Files.createDirectories(site.resolve("assets"));
        copyResource(ECHARTS, assets.resolve("echarts.min.js"));
        for (String a : ASSETS) copyResource(TEMPLATES + "assets/" + a, assets.resolve(a));
        Path data = Files.createDirectories(site.resolve("data"));
        copyResource(TEMPLATES + "schema.md", data.resolve("SCHEMA.md"));

        List<SectionView> views = new ArrayList<>();
        for (Section s : report.sections()) views.add(writeData(s, data, seedModel(report)).carried(report.carried().get(s.id())));
        writeRunJson(report, data.resolve("run.json"));

        Context index = new Context(Locale.ROOT);
        index.setVariable("summary", report.summary());
        index.setVariable("sections", views);
        index.setVariable("failed", report.failedSections());
        index.setVariable("notApplicable", report.notApplicableSections());
        index.setVariable("generated", Instant.now().toString());
        render("index", index, site.resolve("index.html"));
        for (int i = 0; i < views.size(); i++) {
            Context page = new Context(Locale.ROOT);
            page.setVariable("summary", report.summary());
            page.setVariable("view", views.get(i));
            page.setVariable("prev", i > 0 ? views.get(i - 1) : null);
            page.setVariable("next", i + 1 < views.size() ? views.get(i + 1) : null);
            render("analysis", page, site.resolve(views.get(i).section().page()));
        }
    }

    /** Renders one page; a seam for tests that need a publish to fail midway. */
    protected void render(String template, Context context, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            engine.process(template, context, w);
        }
    }

    /** Whether the run's model is gemma-2b-it, as the run summary says (null if it does not say). */
    static Boolean seedModel(Report report) {
        String v = report.summary() == null || report.summary().model() == null ? null : report.summary().model().get(FindingData.SEED_MODEL_KEY);
        return v == null ? null : v.startsWith("yes");
    }

    private SectionView writeData(Section s, Path data, Boolean seedModel) throws IOException {
        List<FigureView> figures = new ArrayList<>();
        List<TableView> tables = new ArrayList<>();
        if (s.result() != null) {
            Path dir = Files.createDirectories(data.resolve(s.id()));
            for (Figure f : s.result().figures()) {
                ObjectNode node = FigureData.json(json, s.id(), f);
                json.writeValue(dir.resolve(f.id() + ".json").toFile(), node);
                writeCsv(FigureData.csvRows(f), dir.resolve(f.id() + ".csv"));
                figures.add(new FigureView(f, "fig-" + f.id(), embeddable(json.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node)),
                        "data/" + s.id() + "/" + f.id() + ".json", "data/" + s.id() + "/" + f.id() + ".csv"));
            }
            for (Table t : s.result().tables()) {
                writeCsv(FigureData.csvRows(t), dir.resolve(t.id() + ".csv"));
                json.writeValue(dir.resolve(t.id() + ".json").toFile(), FigureData.tableJson(json, s.id(), t));
                tables.add(new TableView(t, "data/" + s.id() + "/" + t.id() + ".csv"));
            }
            if (!s.result().findings().isEmpty()) {
                // the rules, measures and intervals behind every verdict: enough to recompute each one
                json.writeValue(dir.resolve("findings.json").toFile(), FindingData.json(json, s.id(), seedModel, s.result().findings()));
                writeCsv(FindingData.csvRows(s.result().findings()), dir.resolve("findings.csv"));
            }
        }
        String customHtml = null;
        String customError = null;
        if (s.customTemplate() != null && s.result() != null) {
            Context ctx = new Context(Locale.ROOT);
            ctx.setVariable("result", s.result());
            ctx.setVariable("section", s);
            ctx.setVariable("parameters", s.parameters());
            try {
                customHtml = customEngine.process(s.customTemplate(), ctx);
            } catch (RuntimeException e) {
                // the analysis's own template is its business: the standard rendering still publishes
                customError = "the analysis's template (report-templates/" + s.id() + ".html) failed: " + e.getMessage();
                LOG.warn(customError);
            }
        }
        return new SectionView(s, figures, tables, customHtml, customError);
    }

    private void writeCsv(List<List<String>> rows, Path file) throws IOException {
        csv.writer(CsvSchema.emptySchema()).writeValue(file.toFile(), rows);
    }

    private void writeRunJson(Report report, Path file) throws IOException {
        ObjectNode root = json.createObjectNode();
        root.put("schema", "refusal-lab-run/1");
        Report.Summary s = report.summary();
        root.put("title", s.title());
        root.put("started", s.started() == null ? null : s.started().toString());
        root.put("tookSeconds", s.took() == null ? null : s.took().toMillis() / 1000.0);
        root.set("model", json.valueToTree(s.model()));
        root.set("study", json.valueToTree(s.study()));
        root.set("versions", json.valueToTree(s.versions()));
        root.set("problems", json.valueToTree(s.problems()));
        ArrayNode sections = root.putArray("analyses");
        for (Section sec : report.sections()) {
            ObjectNode n = sections.addObject();
            n.put("id", sec.id()).put("title", sec.title()).put("order", sec.order())
                    .put("bundle", sec.bundle()).put("bundleVersion", sec.bundleVersion())
                    .put("status", sec.status().name()).put("error", sec.error())
                    .put("tookSeconds", sec.took() == null ? null : sec.took().toMillis() / 1000.0);
            n.set("parameters", json.valueToTree(sec.parameters()));
            n.set("assumptions", json.valueToTree(sec.assumptions()));
            if (sec.result() != null) {
                ArrayNode findings = n.putArray("findings");
                for (Finding f : sec.result().findings()) findings.add(FindingData.finding(json, f));
            }
        }
        json.writeValue(file.toFile(), root);
    }

    /** JSON inside a script element: "&lt;/script&gt;" or "&lt;!--" in model text must not end or change the element. */
    static String embeddable(String jsonText) {
        return jsonText.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");
    }

    private static void copyResource(String resource, Path to) throws IOException {
        try (InputStream in = SitePublisher.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IOException("report resource missing from the class path: " + resource);
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void swapIn(Path building, Path target) throws IOException {
        if (!Files.exists(target)) {
            Files.move(building, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Path old = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(building, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(building);
            throw e;
        }
        deleteTree(old);
    }

    /**
     * A process killed between the two renames of a swap leaves no target but an ".old-" folder: put it back.
     * Leftover build folders of killed runs are deleted.
     */
    private static void recoverInterruptedSwap(Path target) throws IOException {
        String name = target.getFileName().toString();
        try (DirectoryStream<Path> siblings = Files.newDirectoryStream(target.getParent(), "." + name + ".{tmp,old}-*")) {
            for (Path p : siblings) {
                if (p.getFileName().toString().startsWith("." + name + ".old-") && !Files.exists(target)) {
                    Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
                    LOG.warn("restored the previous report from {} (an earlier publish was interrupted)", p);
                } else {
                    deleteTree(p);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** A figure as a page shows it: its DOM id, its data embedded as JSON, and links to the exported files. */
    public record FigureView(Figure figure, String domId, String json, String jsonFile, String csvFile) { }

    public record TableView(Table table, String csvFile) { }

    /** A section as its page shows it; {@code customHtml} is the analysis's own fragment, rendered (or null). */
    public record SectionView(Section section, List<FigureView> figures, List<TableView> tables,
                              String customHtml, String customError, Report.Carried carried) {
        public SectionView(Section section, List<FigureView> figures, List<TableView> tables, String customHtml, String customError) {
            this(section, figures, tables, customHtml, customError, null);
        }

        SectionView carried(Report.Carried c) {
            return new SectionView(section, figures, tables, customHtml, customError, c);
        }

        public Map<String, Long> verdictCounts() {
            var counts = new java.util.LinkedHashMap<String, Long>();
            if (section.result() != null) {
                for (Finding f : section.result().findings()) counts.merge(f.verdict().name(), 1L, Long::sum);
            }
            return counts;
        }
    }
}
