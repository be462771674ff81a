package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.platform.Section;

/**
 * "run" through the launcher's own plumbing: a Lab on the embedded Felix (FrameworkHost with SCR, Configuration
 * Admin, fileinstall), study.json read from its config folder, the platform bundle's packages exported by the system
 * bundle, the report published, and the Gogo list command. The runner's own rules (fault isolation, time limits,
 * duplicate ids, hot swap) are tested inside a framework by bundles/platform-tests.
 */
class LabRunTest {

    @TempDir
    static Path root;
    static Lab lab;
    static List<Section> ran;

    static final String STUDY = """
            {"name": "lab run test", "parameters": {"greeting": "from study.json"}}
            """;

    @BeforeAll
    static void startAndRunAll() throws Exception {
        lab = PlatformTestSupport.startLab(root, STUDY, Map.of());
        for (String name : List.of("good", "throwing", "dup-v2", "dup-v1")) lab.host().install(TestBundles.jar(name)).start();
        ran = lab.runAll(Set.of());
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void theLabRunsTheBundlesOfItsFrameworkWithTheStudyFileAndTheModel() {
        assertEquals(List.of("good", "throwing", "dup"), ran.stream().map(Section::id).toList());
        Section good = ran.get(0);
        assertEquals(Section.Status.OK, good.status(), good.error());
        assertEquals("greeting=from study.json layers=3", good.result().summary(), "study.json from the config folder, FakeModel's 3 layers");
        assertNotNull(lab.model());
    }

    @Test
    void theSitePublishesEverySectionTheFailuresAndTheProblems() throws Exception {
        Path site = lab.publish(root.resolve("site")).run(); // site/runs/<time>/, where site/index.html points
        String index = Files.readString(site.resolve("index.html"));
        assertTrue(index.contains("1</strong> of <span>3</span> analyses failed"), index);
        assertTrue(index.contains("fake-checkpoint"));
        assertTrue(index.contains("analysis id &#39;dup&#39; is provided by 2 bundles"));
        assertTrue(Files.readString(site.resolve("throwing.html")).contains("boom from the analysis"));
        assertTrue(Files.exists(site.resolve("data/good/logits.csv")));
        // the good bundle carries report-templates/good.html: rendered into its page with its result
        assertTrue(Files.readString(site.resolve("good.html")).contains("<p class=\"custom-good\">first logit 0.0 of 4</p>"));
    }

    @Test
    void gogoListShowsEachAnalysisAndItsLastStatus() {
        String list = new LabCommands(lab, root.resolve("site")).list();
        assertTrue(list.lines().anyMatch(l -> l.matches("20\\s+throwing\\s+FAILED.*test\\.throwing 1\\.0\\.0.*")), list);
        assertTrue(list.lines().anyMatch(l -> l.matches("10\\s+good\\s+OK.*")), list);
        assertTrue(list.contains("! analysis id 'dup'"));
    }
}
