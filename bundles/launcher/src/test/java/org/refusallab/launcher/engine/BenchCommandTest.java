package org.refusallab.launcher.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.checkpoint.GemmaConfigs;
import org.refusallab.launcher.Main;

/** {@code refusal-lab bench} on a tiny config (random weights): its table, its FLOP count, its errors. */
class BenchCommandTest {

    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    static Path tinyConfigDir() throws URISyntaxException {
        return Path.of(BenchCommandTest.class.getResource("/bench-tiny/config.json").toURI()).getParent();
    }

    int run(String... args) {
        return Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void printsOneRowPerBatchWithConsistentThroughput() throws Exception {
        assertEquals(0, run("bench", "--config", tinyConfigDir().toString(), "--batch", "1,2", "--seq", "3", "--repeats", "2", "--warmup", "1"),
                err.toString());
        List<String[]> rows = out.toString().lines().map(String::trim).filter(l -> l.matches("^\\d+\\s+\\d+\\s+[0-9.].*")).map(l -> l.split("\\s+")).toList();
        assertEquals(2, rows.size(), out.toString());
        for (int i = 0; i < 2; i++) {
            String[] r = rows.get(i);
            int batch = Integer.parseInt(r[0]), seq = Integer.parseInt(r[1]);
            assertEquals(i + 1, batch);
            assertEquals(3, seq);
            double seconds = Double.parseDouble(r[2]), tokensPerSecond = Double.parseDouble(r[3]);
            assertTrue(seconds > 0, out.toString());
            // tokens/s recomputed from the printed time, which is rounded to 4 decimals: at a planned forward's
            // ~1 ms that rounding alone is up to 5e-5 / seconds relative, on top of 1 %
            assertEquals(batch * seq / seconds, tokensPerSecond, (0.01 + 5e-5 / seconds) * tokensPerSecond + 0.1, out.toString());
            assertTrue(Double.parseDouble(r[5]) > 0, "GEMM ceiling: " + out);
            assertTrue(Double.parseDouble(r[6]) > 0, "peak RSS: " + out);
        }
        assertTrue(out.toString().contains("weights: 0.00 GB (5712 parameters)"), out.toString());
    }

    @Test
    void decodePrintsOneRowPerBatchWithConsistentThroughput() throws Exception {
        assertEquals(0, run("bench", "--config", tinyConfigDir().toString(), "--batch", "1,3", "--seq", "4", "--decode", "5", "--repeats", "1",
                "--warmup", "0"), err.toString());
        List<String[]> rows = out.toString().lines().map(String::trim).filter(l -> l.matches("^\\d+\\s+\\d+\\s+\\d+\\s+[0-9.].*")).map(l -> l.split("\\s+")).toList();
        assertEquals(2, rows.size(), out.toString());
        for (int i = 0; i < 2; i++) {
            String[] r = rows.get(i); // batch seq new generate_s tokens/s prefill_s step_ms peak_rss_GB min_s max_s
            int batch = Integer.parseInt(r[0]), newTokens = Integer.parseInt(r[2]);
            assertEquals(List.of(i == 0 ? 1 : 3, 4, 5), List.of(batch, Integer.parseInt(r[1]), newTokens));
            double seconds = Double.parseDouble(r[3]);
            assertTrue(seconds > 0, out.toString());
            assertEquals(batch * newTokens / seconds, Double.parseDouble(r[4]), (0.01 + 5e-5 / seconds) * Double.parseDouble(r[4]) + 0.01, out.toString());
            assertTrue(Double.parseDouble(r[7]) > 0, "peak RSS: " + out);
        }
        err.getBuffer().setLength(0);
        assertEquals(1, run("bench", "--decode", "-1"));
        assertEquals(List.of("refusal-lab: --decode must be 0 or more, got -1"), err.toString().lines().toList());
    }

    @Test
    void forwardFlopsCountEveryMatmul() throws Exception {
        var cfg = GemmaConfigs.read(tinyConfigDir().resolve("config.json")); // d 16, d_mlp 32, 2 heads x 8, 1 kv head, vocab 64, 2 layers
        int b = 2, s = 3, t = b * s;
        // {rows, cols, inner} of each matmul of one block, as the engine runs it
        long[][] block = {
            {t, 16, 16}, {t, 8, 16}, {t, 8, 16},    // q, k, v projections
            {t * 2, 8, 8}, {t, 8, 8},               // rotary rotate-half of q (2 heads) and k
            {b * 2 * s, s, 8}, {b * 2 * s, 8, s},   // scores and pattern @ v, all heads
            {t, 16, 16},                            // o projection
            {t, 32, 16}, {t, 32, 16}, {t, 16, 32},  // gate, up, down
        };
        long flops = 0;
        for (long[] m : block) flops += 2 * m[0] * m[1] * m[2];
        flops = 2 * flops + 2L * b * 16 * 64; // two layers, last-position logits
        assertEquals(flops, BenchCommand.forwardFlops(cfg, b, s), 1e-9);
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, BenchCommand.median(new double[] {1, 2, 7}));
        assertEquals(2.5, BenchCommand.median(new double[] {1, 2, 3, 9}));
    }

    @Test
    void peakRssIsAtLeastTheCurrentRss() {
        long rss = BenchCommand.procStatusKb("VmRSS") * 1024;
        assertTrue(rss > 0);
        assertTrue(BenchCommand.peakRssBytes() >= rss);
    }

    @Test
    void badOptionsAreOneLineAndExitOne() throws Exception {
        assertEquals(1, run("bench", "--batch", "2,0"));
        assertEquals(List.of("refusal-lab: --batch must be positive integers, got [2, 0]"), err.toString().lines().toList());
        err.getBuffer().setLength(0);
        assertEquals(1, run("bench", "--weights", "checkpoint"));
        assertEquals(List.of("refusal-lab: --weights checkpoint needs --config DIR (a checkpoint folder), not gemma-2b"), err.toString().lines().toList());
        err.getBuffer().setLength(0);
        Path missing = tinyConfigDir().resolve("no-such-folder");
        assertEquals(1, run("bench", "--config", missing.toString()));
        assertEquals(List.of("refusal-lab: --config: neither gemma-2b nor a folder: " + missing), err.toString().lines().toList());
    }
}
