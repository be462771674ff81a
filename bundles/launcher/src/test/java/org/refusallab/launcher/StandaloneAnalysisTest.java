package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.platform.Section;

/**
 * An analysis written outside the repository, as the README tells: a project generated from the archetype
 * (refusal-lab-analysis-archetype), built offline with Maven against the installed API and test-support artifacts
 * (its own test runs on the reference model), and its jar run in the platform. Needs those artifacts installed
 * (mvn install of this repository; the archetype and test-support build before this module).
 */
class StandaloneAnalysisTest {

    @TempDir
    Path root;

    @Test
    void aGeneratedProjectBuildsAndRunsInThePlatform() throws Exception {
        Path projects = Files.createDirectories(root.resolve("outside"));
        long t0 = System.nanoTime();
        // the plugin by its coordinates: the "archetype:" prefix needs plugin-group metadata that an offline build on a
        // fresh machine does not have (the archetype module's build fetched the plugin itself)
        maven(projects, System.getProperty("refusallab.archetypePlugin") + ":generate", "-DarchetypeCatalog=local", "-DarchetypeGroupId=org.refusallab",
                "-DarchetypeArtifactId=refusal-lab-analysis-archetype", "-DarchetypeVersion=" + System.getProperty("refusallab.version"),
                "-DgroupId=org.example", "-DartifactId=logit-lens", "-Dversion=1.0.0", "-Dpackage=org.example.logitlens",
                "-DanalysisId=logit-lens", "-DclassName=LogitLens", "-DanalysisTitle=Logit lens", "-DinteractiveMode=false");
        Path project = projects.resolve("logit-lens");
        assertTrue(Files.isRegularFile(project.resolve("src/main/java/org/example/logitlens/LogitLens.java")));
        String log = maven(project, "package");
        assertTrue(log.contains("Tests run: 1, Failures: 0, Errors: 0"), "the generated test ran on the reference model:\n" + log);
        Path jar = project.resolve("target/logit-lens-1.0.0.jar");
        System.out.printf("generated and built a standalone analysis in %.1f s%n", (System.nanoTime() - t0) / 1e9);

        Lab lab = PlatformTestSupport.startLab(root.resolve("lab"), "{\"name\": \"standalone\"}", Map.of());
        try {
            lab.host().install(jar).start();
            PlatformFixtureWait.until(() -> lab.runner().resolve().winner("logit-lens") != null, "the analysis service is registered");
            Section s = lab.runAll(Set.of("logit-lens")).get(0);
            assertEquals(Section.Status.OK, s.status(), s.error());
            assertEquals("Logit lens", s.title());
            assertTrue(s.result().summary().startsWith("greeting from logit-lens"), s.result().summary());
            assertEquals(List.of("token", "prompts").stream().sorted().toList(), s.parameters().keySet().stream().sorted().toList());
            assertEquals(List.of("logits"), s.result().figures().get(0).provenance().hooks());
        } finally {
            lab.close();
        }
    }

    /** Runs Maven offline against this build's local repository; fails with its output if it fails. */
    private static String maven(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("refusallab.mavenHome"), "bin", "mvn").toString(),
                "-B", "-o", "-ntp", "-Dmaven.repo.local=" + System.getProperty("refusallab.localRepository")));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("mvn", ".log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        int code = p.waitFor();
        String log = Files.readString(out);
        Files.delete(out);
        if (code != 0) throw new AssertionError("mvn " + String.join(" ", args) + " failed (" + code + "):\n" + log);
        return log;
    }

    /** Waiting for SCR to register a started bundle's component. */
    static final class PlatformFixtureWait {
        static void until(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!condition.getAsBoolean()) {
                if (System.nanoTime() > deadline) throw new AssertionError(what + ": not within 10 s");
                Thread.sleep(20);
            }
        }
    }
}
