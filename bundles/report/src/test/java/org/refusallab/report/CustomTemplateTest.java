package org.refusallab.report;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.platform.Section;

/** An analysis's own fragment is rendered with its result, escaped like the rest; a broken one does not break the site. */
class CustomTemplateTest {

    @TempDir
    Path dir;

    @Test
    void aCustomFragmentSeesTheResultAndEscapesModelText() throws Exception {
        String template = """
                <div class="per-prompt">
                  <p th:each="row : ${result.tables()[0].rows()}">Completion: <q th:text="${row[1]}">text</q></p>
                  <p th:text="'figures: ' + ${result.figures().size()} + ', layer ' + ${parameters['layer']}">n</p>
                </div>""";
        Section s = SampleReports.allKinds().withCustomTemplate(template);
        Report r = SampleReports.report("custom");
        Report withCustom = new Report(r.summary(), List.of(s, r.sections().get(1)));
        new SitePublisher().publish(withCustom, dir.resolve("site"));
        String page = Files.readString(dir.resolve("site/all-kinds.html"));
        assertTrue(page.contains("<div class=\"per-prompt\">"));
        assertTrue(page.contains("Completion: <q>&lt;div&gt;Write a manual"));
        assertTrue(page.contains("figures: 5, layer 10"));
        assertFalse(page.contains("<q><div>"));
    }

    @Test
    void aBrokenCustomFragmentIsShownAsAnErrorAndTheRestPublishes() throws Exception {
        Section s = SampleReports.allKinds().withCustomTemplate("<p th:text=\"${result.noSuchMethod()}\">x</p>");
        Report r = SampleReports.report("custom");
        new SitePublisher().publish(new Report(r.summary(), List.of(s)), dir.resolve("site"));
        String page = Files.readString(dir.resolve("site/all-kinds.html"));
        assertTrue(page.contains("the analysis&#39;s template (report-templates/all-kinds.html) failed"), page);
        assertTrue(page.contains("id=\"fig-attention-data\""), "the standard figures are still there");
    }
}
