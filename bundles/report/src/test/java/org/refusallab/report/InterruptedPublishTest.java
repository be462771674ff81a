package org.refusallab.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.thymeleaf.context.Context;

/** A publish that fails midway, or a process killed between the two renames, leaves the previous report intact. */
class InterruptedPublishTest {

    @TempDir
    Path dir;

    /** Renders index.html, then fails on the first analysis page, as a crash or a template bug would. */
    static final class FailingMidway extends SitePublisher {
        @Override
        protected void render(String template, Context context, Path file) throws IOException {
            if (template.equals("analysis")) throw new IllegalStateException("renderer crashed midway");
            super.render(template, context, file);
        }
    }

    @Test
    void failedPublishLeavesThePreviousSiteByteForByte() throws Exception {
        Path site = dir.resolve("site");
        new SitePublisher().publish(SampleReports.report("First run"), site);
        Map<String, String> before = digest(site);

        var e = assertThrows(IllegalStateException.class, () -> new FailingMidway().publish(SampleReports.report("Second run"), site));
        assertEquals("renderer crashed midway", e.getMessage());

        assertEquals(before, digest(site), "the previous report changed");
        assertTrue(Files.readString(site.resolve("index.html")).contains("First run"));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "the half-built site was not cleaned up");
        }

        new SitePublisher().publish(SampleReports.report("Third run"), site);
        assertTrue(Files.readString(site.resolve("index.html")).contains("Third run"));
    }

    @Test
    void aSwapInterruptedBetweenTheRenamesIsRepairedByTheNextPublish() throws Exception {
        Path site = dir.resolve("site");
        new SitePublisher().publish(SampleReports.report("First run"), site);
        Map<String, String> before = digest(site);
        // what a kill -9 between "rename old away" and "rename new in" leaves behind
        Path old = dir.resolve(".site.old-1234");
        Files.move(site, old);
        Files.createDirectories(dir.resolve(".site.tmp-5678/assets"));

        assertThrows(IllegalStateException.class, () -> new FailingMidway().publish(SampleReports.report("Second run"), site));

        assertEquals(before, digest(site), "the previous report was not restored");
        assertTrue(Files.notExists(old));
        assertTrue(Files.notExists(dir.resolve(".site.tmp-5678")), "a killed run's build folder was left behind");
    }

    static Map<String, String> digest(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), HexFormat.of().formatHex(md.digest(Files.readAllBytes(p))));
            }
        }
        return out;
    }
}
