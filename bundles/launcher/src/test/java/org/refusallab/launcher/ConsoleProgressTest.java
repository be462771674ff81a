package org.refusallab.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import me.tongfei.progressbar.ProgressBarConsumer;
import org.junit.jupiter.api.Test;

/** The bar of a sweep shows rows done of the total, the elapsed time and the time left, and rows per second. */
class ConsoleProgressTest {

    @Test
    void showsRowsDoneRowsPerSecondAndTimeLeft() throws Exception {
        List<String> lines = new ArrayList<>();
        ProgressBarConsumer capture = new ProgressBarConsumer() {
            @Override public int getMaxRenderedLength() { return 200; }
            @Override public void accept(String rendered) { synchronized (lines) { lines.add(rendered); } }
            @Override public void close() { }
        };
        ConsoleProgress p = new ConsoleProgress("residual-patching", () -> capture);
        p.start("rows", 888);
        Thread.sleep(1100);
        p.step(111);
        Thread.sleep(1100); // the bar redraws every 500 ms
        String last;
        synchronized (lines) {
            last = lines.get(lines.size() - 1);
        }
        p.done();
        assertTrue(last.startsWith("residual-patching: rows"), last);
        assertTrue(last.contains("111/888 rows"), last);
        // (elapsed / time left): left is about elapsed x 777 / 111, a few seconds on a calm machine, more on a busy one
        assertTrue(last.matches(".*\\(\\d+:\\d\\d:\\d\\d / \\d+:\\d\\d:\\d\\d\\).*"), last);
        assertTrue(last.matches(".*\\d+(\\.\\d+)? rows/s.*"), last);
    }
}
