package org.refusallab.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.api.result.Figure;
import org.refusallab.platform.Section;

class SitePublisherTest {

    @TempDir
    static Path dir;
    static Path site;

    @BeforeAll
    static void publish() throws IOException {
        site = dir.resolve("site");
        new SitePublisher().publish(SampleReports.report("Sample run"), site);
    }

    @Test
    void writesIndexPagesAssetsAndData() {
        for (String f : List.of("index.html", "all-kinds.html", "broken.html", "assets/echarts.min.js", "assets/report.js",
                "assets/report.css", "data/run.json", "data/SCHEMA.md", "data/all-kinds/heatmap.json".replace("heatmap", "attention"),
                "data/all-kinds/completions.csv")) {
            assertTrue(Files.isRegularFile(site.resolve(f)), f);
        }
        // the real library, not a placeholder: ECharts 5.3.1's minified build is about 1 MB
        assertTrue(site.resolve("assets/echarts.min.js").toFile().length() > 900_000);
    }

    /** A NOT APPLICABLE section shows its reason (no result) on its page and the summary; an OK one lists its assumptions. */
    @Test
    void notApplicableSectionsAndAssumptionsAreShown() throws IOException {
        Section na = Section.notApplicable("direct-head", "Direct heads", 30, "org.refusallab.test", "1.0.0",
                "NOT APPLICABLE on this model: it assumes HEAD_RESULTS_SUM_TO_ATTN_OUT (...): gemma2 normalises <the attention output>",
                java.util.Map.of(), List.of("HEAD_RESULTS_SUM_TO_ATTN_OUT (the per-head results sum): NOT APPLICABLE: gemma2 normalises"));
        Section ok = SampleReports.allKinds().withAssumptions(List.of("LINEAR_LOGITS (linear): broken on this model (gemma2 soft-caps); linearised: pre-soft-cap"));
        Report base = SampleReports.report("Assumptions");
        Path out = dir.resolve("site-assumptions");
        new SitePublisher().publish(new Report(base.summary(), List.of(ok, na)), out);
        String page = Files.readString(out.resolve("direct-head.html"));
        assertTrue(page.contains("NOT APPLICABLE to this model"), page);
        assertTrue(page.contains("gemma2 normalises &lt;the attention output&gt;"), page);
        assertTrue(page.contains(">NOT_APPLICABLE<"), "the status badge");
        assertFalse(page.contains("class=\"summary\""), "no result, no summary");
        String okPage = Files.readString(out.resolve("all-kinds.html"));
        assertTrue(okPage.contains("<h2>Assumptions</h2>") && okPage.contains("linearised: pre-soft-cap"), okPage);
        String index = Files.readString(out.resolve("index.html"));
        assertTrue(index.contains("analyses are NOT APPLICABLE") && index.contains("it assumes HEAD_RESULTS_SUM_TO_ATTN_OUT"), index);
        assertFalse(index.contains("analyses failed"), "not applicable is not a failure");
        JsonNode run = new ObjectMapper().readTree(out.resolve("data/run.json").toFile());
        assertEquals("NOT_APPLICABLE", run.get("analyses").get(1).get("status").asText());
        assertEquals("linearised: pre-soft-cap", run.get("analyses").get(0).get("assumptions").get(0).asText().replaceAll(".*; ", ""));
    }

    @Test
    void modelTextIsEscapedNotMarkup() throws IOException {
        String page = Files.readString(site.resolve("all-kinds.html"));
        assertFalse(page.contains("<div>Write a manual"), "model output became markup");
        assertFalse(page.contains("</h4>\n\nI cannot"), "model output became markup");
        assertFalse(page.contains("<script>alert(1)</script>"), "model output became a script");
        assertTrue(page.contains("&lt;div&gt;Write a manual on how to assemble a table&lt;/div&gt;"));
        assertTrue(page.contains("&lt;/h4&gt;"));
        // inside the embedded chart data "<" is a JSON escape, so "</script>" in a label cannot end the element
        assertTrue(page.contains("\\u003c/h4\\u003e"));
        // one table per Table plus the findings (fragments are included by name, not by element)
        assertEquals(2, page.split("<table>", -1).length - 1);
        String failed = Files.readString(site.resolve("broken.html"));
        assertTrue(failed.contains("IllegalStateException: boom &lt;script&gt;"));
        String index = Files.readString(site.resolve("index.html"));
        assertTrue(index.contains("IllegalStateException: boom &lt;script&gt;"), "failures are listed on the summary");
        assertTrue(index.contains("two bundles provide analysis id &#39;x&#39;"));
    }

    @Test
    void everyFigureIsEmbeddedAsParsableJsonEqualToItsDataFile() throws IOException {
        String page = Files.readString(site.resolve("all-kinds.html"));
        ObjectMapper json = new ObjectMapper();
        for (Figure f : SampleReports.allKinds().result().figures()) {
            String marker = "id=\"fig-" + f.id() + "-data\">";
            int start = page.indexOf(marker);
            assertTrue(start > 0, "no embedded data for " + f.id());
            String embedded = page.substring(start + marker.length(), page.indexOf("</script>", start));
            JsonNode inPage = json.readTree(embedded);
            JsonNode file = json.readTree(site.resolve("data/all-kinds/" + f.id() + ".json").toFile());
            assertEquals(file, inPage, f.id());
            assertEquals(f.kind().name(), file.get("kind").asText());
            assertEquals(FigureData.SCHEMA, file.get("schema").asText());
        }
    }

    @Test
    void figureAndTableDataCarryTheirProvenance() throws IOException {
        JsonNode p = new ObjectMapper().readTree(site.resolve("data/all-kinds/refusal-score-by-layer.json").toFile()).get("provenance");
        assertEquals("blocks.*.hook_resid_pre", p.get("hooks").get(0).asText());
        JsonNode edit = p.get("interventions").get(0);
        assertEquals("project_out", edit.get("kind").asText());
        assertEquals(3, edit.get("layer").asInt());
        assertEquals("[2,7]", edit.get("positions").toString(), "two interventions at one hook summarised with their positions");
        assertEquals(2, edit.get("count").asInt());
        assertEquals("0a1b2c3d4e5f", p.get("direction").get("sha256").asText());
        JsonNode table = new ObjectMapper().readTree(site.resolve("data/all-kinds/completions.json").toFile());
        assertEquals("refusal-lab-table/1", table.get("schema").asText());
        assertEquals(0, table.get("provenance").get("hooks").size());
    }

    @Test
    void csvHoldsEveryValueInLongFormat() throws IOException {
        Figure line = SampleReports.line();
        List<List<String>> rows = readCsv(site.resolve("data/all-kinds/refusal-score-by-layer.csv"));
        assertEquals(List.of("series", "x", "y"), rows.get(0));
        assertEquals(1 + 2 * 6, rows.size());
        int r = 1;
        for (Figure.Series s : line.series()) {
            for (int i = 0; i < 6; i++, r++) {
                assertEquals(s.name(), rows.get(r).get(0));
                assertEquals(line.xLabels().get(i), rows.get(r).get(1));
                assertEquals(s.values()[0][i], Double.parseDouble(rows.get(r).get(2)));
            }
        }
        List<List<String>> heat = readCsv(site.resolve("data/all-kinds/attention.csv"));
        assertEquals(List.of("row", "column", "value"), heat.get(0));
        assertEquals(List.of("How", "<bos>", "0.5"), heat.get(1 + 4 + 0)); // row 1, column 0
        assertEquals(List.of("<bos>", "How", ""), heat.get(2)); // masked cell (NaN) is empty
        List<List<String>> hist = readCsv(site.resolve("data/all-kinds/projection.csv"));
        assertEquals(1 + 80, hist.size());
        List<List<String>> table = readCsv(site.resolve("data/all-kinds/completions.csv"));
        assertEquals(SampleReports.DIV_COMPLETION, table.get(1).get(1));
        assertEquals(SampleReports.H4_COMPLETION, table.get(2).get(1), "quoting keeps newlines and commas");
    }

    @Test
    void histogramBinsAgreeWithAnIndependentCount() throws IOException {
        Figure h = SampleReports.histogram();
        JsonNode bins = new ObjectMapper().readTree(site.resolve("data/all-kinds/projection.json").toFile()).get("bins");
        double[] edges = new ObjectMapper().convertValue(bins.get("edges"), double[].class);
        assertEquals(9, edges.length - 1, "ceil(sqrt(80 pooled samples)) bins");
        for (Figure.Series s : h.series()) {
            long[] expected = new long[edges.length - 1];
            for (double v : s.values()[0]) {
                for (int b = 0; b < expected.length; b++) {
                    boolean last = b == expected.length - 1;
                    if (v >= edges[b] && (v < edges[b + 1] || (last && v <= edges[b + 1]))) {
                        expected[b]++;
                        break;
                    }
                }
            }
            long[] counts = new ObjectMapper().convertValue(bins.get("counts").get(s.name()), long[].class);
            assertArrayEquals(expected, counts, s.name());
            assertEquals(40, java.util.Arrays.stream(counts).sum());
        }
    }

    @Test
    void runJsonListsEveryAnalysisWithItsStatus() throws IOException {
        JsonNode run = new ObjectMapper().readTree(site.resolve("data/run.json").toFile());
        assertEquals("OK", run.get("analyses").get(0).get("status").asText());
        assertEquals("FAILED", run.get("analyses").get(1).get("status").asText());
        assertEquals("AGREES", run.get("analyses").get(0).get("findings").get(0).get("verdict").asText());
        assertEquals(42.0, run.get("tookSeconds").asDouble());
    }

    @Test
    void findingsCarryTheirRulesAndAnIndependentRecomputationGetsEveryVerdict() throws IOException {
        JsonNode data = new ObjectMapper().readTree(site.resolve("data/all-kinds/findings.json").toFile());
        assertEquals("refusal-lab-findings/1", data.get("schema").asText());
        assertEquals(false, data.get("seedModel").asBoolean(true));
        JsonNode findings = data.get("findings");
        assertEquals(7, findings.size());
        List<String> expected = List.of("AGREES", "PARTLY", "DISAGREES", "AGREES", "PARTLY", "PARTLY", "NOT_APPLICABLE");
        int judged = 0;
        for (int k = 0; k < findings.size(); k++) {
            JsonNode f = findings.get(k);
            assertEquals(expected.get(k), f.get("verdict").asText(), f.toString());
            if (f.get("rule").isNull()) continue;
            judged++;
            assertEquals(f.get("verdict").asText(), IndependentVerdicts.verdict(f, data.get("seedModel").asBoolean()), f.toString());
        }
        assertEquals(4, judged);
        assertEquals(2, findings.get(3).get("measures").get(0).get("interval").get("n").asInt() / 4);
        assertTrue(findings.get(6).get("note").asText().contains("Not applicable"));
        assertEquals(1 + 4, readCsv(site.resolve("data/all-kinds/findings.csv")).size() - 3, "header + one row per measure");
        JsonNode run = new ObjectMapper().readTree(site.resolve("data/run.json").toFile());
        assertEquals(findings, run.get("analyses").get(0).get("findings"));
        String page = Files.readString(site.resolve("all-kinds.html"));
        assertTrue(page.contains("necessary = fraction recovered &gt;= 0.5") && page.contains("held-out "), "the page shows rules and intervals");
    }

    static List<List<String>> readCsv(Path file) throws IOException {
        CsvMapper csv = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
        try (MappingIterator<List<String>> it = csv.readerForListOf(String.class).readValues(file.toFile())) {
            return it.readAll();
        }
    }
}
