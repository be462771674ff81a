package org.refusallab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens the generated report from file:// in headless Chromium: every chart must be an ECharts instance that painted
 * its canvas, model text must stay text, and nothing may be logged as an error. Screenshots are kept under
 * target/report-screenshots/ as build artifacts. Without a local Chromium the class is skipped with a loud warning
 * (the README's test command must pass on a fresh machine), unless -Drefusallab.requireChromium=true (.ci/run).
 */
class ReportBrowserTest {

    @TempDir
    static Path dir;
    static Path site;
    static Chromium chromium;
    static final Path SHOTS = Path.of(System.getProperty("report.screenshots", "target/report-screenshots"));

    /** Per chart: an instance, a canvas of non-zero size, and how many of its pixels are not transparent. */
    static final String CHARTS = """
            JSON.stringify([...document.querySelectorAll('.chart')].map(el => {
              const inst = window.echarts ? echarts.getInstanceByDom(el) : null;
              const c = el.querySelector('canvas');
              let painted = 0;
              if (c && c.width > 0 && c.height > 0) {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
              }
              return {figure: el.getAttribute('data-figure'), instance: !!inst, width: c ? c.width : 0,
                      height: c ? c.height : 0, painted: painted};
            }))""";

    /** -Drefusallab.requireChromium=true (what .ci/run passes): no Chromium is a failure instead of a skip. */
    static final String REQUIRE = "refusallab.requireChromium";

    @BeforeAll
    static void publishAndStart() throws Exception {
        Path exe = Chromium.findExecutable();
        if (exe == null) {
            String why = "no Chromium found (" + Chromium.LOOKED_FOR + "); install it with 'apt-get install -y chromium' or pass -Dchromium.path=...";
            if (Boolean.getBoolean(REQUIRE)) throw new IllegalStateException(why + " (required: -D" + REQUIRE + "=true)");
            String banner = "*".repeat(100);
            System.err.println(banner + "\nWARNING: ReportBrowserTest SKIPPED: " + why
                    + "\nThe report's charts were NOT checked in a browser. CI runs with -D" + REQUIRE + "=true, where this fails.\n" + banner);
            Assumptions.abort("skipped: " + why);
        }
        site = dir.resolve("site");
        new SitePublisher().publish(SampleReports.report("Browser check"), site);
        Files.createDirectories(SHOTS);
        chromium = new Chromium(dir);
        chromium.send("Runtime.enable", Map.of());
        chromium.send("Log.enable", Map.of());
        chromium.send("Page.enable", Map.of());
        chromium.send("Emulation.setDeviceMetricsOverride", Map.of("width", 1280, "height", 900, "deviceScaleFactor", 1, "mobile", false));
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) chromium.close();
    }

    @Test
    void everyChartRendersAndModelTextStaysText() throws Exception {
        int before = chromium.events.size();
        chromium.open(site.resolve("all-kinds.html").toUri(), Duration.ofSeconds(20));
        JsonNode charts = waitForCharts(5);
        for (JsonNode c : charts) {
            assertTrue(c.get("instance").asBoolean(), "no ECharts instance: " + c);
            assertTrue(c.get("width").asInt() > 300 && c.get("height").asInt() > 300, "canvas too small: " + c);
            // axes, labels and data: far more than a blank canvas (0) or a lone title
            assertTrue(c.get("painted").asLong() > 5_000, "canvas nearly empty: " + c);
        }
        assertEquals("5", chromium.eval("document.body.getAttribute('data-charts-rendered')").asText());
        // the seed's completions are shown as text, never parsed into elements
        assertTrue(chromium.eval("document.body.innerText.includes('<div>Write a manual on how to assemble a table</div>')").asBoolean());
        assertTrue(chromium.eval("document.body.innerText.includes('</h4>')").asBoolean());
        assertEquals(0, chromium.eval("document.querySelectorAll('main td div, main td h4, main td script').length").asInt());
        assertNoErrors(before);
        Files.write(SHOTS.resolve("all-kinds.png"), chromium.screenshot(1280));
    }

    @Test
    void summaryAndFailedPagesLoadWithoutErrors() throws Exception {
        int before = chromium.events.size();
        chromium.open(site.resolve("index.html").toUri(), Duration.ofSeconds(20));
        assertTrue(chromium.eval("document.body.innerText.includes('1 of 2 analyses failed')").asBoolean(),
                chromium.eval("document.body.innerText").asText());
        Files.write(SHOTS.resolve("index.png"), chromium.screenshot(1280));
        chromium.open(site.resolve("broken.html").toUri(), Duration.ofSeconds(20));
        assertTrue(chromium.eval("document.querySelector('.failed-box pre').innerText").asText().startsWith("IllegalStateException: boom <script>"));
        assertNoErrors(before);
    }

    private static JsonNode waitForCharts(int expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        JsonNode charts;
        do {
            charts = new com.fasterxml.jackson.databind.ObjectMapper().readTree(chromium.eval(CHARTS).asText());
            boolean ready = charts.size() == expected;
            for (JsonNode c : charts) ready &= c.get("painted").asLong() > 0;
            if (ready) return charts;
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return charts;
    }

    /** Console errors, uncaught exceptions and failed loads (e.g. a missing asset) since event {@code from}. */
    private static void assertNoErrors(int from) {
        List<String> errors = new ArrayList<>();
        for (JsonNode e : chromium.events.subList(from, chromium.events.size())) {
            String m = e.path("method").asText();
            JsonNode p = e.path("params");
            if (m.equals("Runtime.exceptionThrown")) errors.add(p.toString());
            if (m.equals("Runtime.consoleAPICalled") && (p.path("type").asText().equals("error") || p.path("type").asText().equals("assert"))) errors.add(p.toString());
            if (m.equals("Log.entryAdded") && p.path("entry").path("level").asText().equals("error")) errors.add(p.toString());
        }
        assertEquals(List.of(), errors, "browser reported errors");
    }
}
