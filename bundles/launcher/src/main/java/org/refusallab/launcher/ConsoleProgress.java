package org.refusallab.launcher;

import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.refusallab.api.analysis.Progress;

/** An analysis's progress as a console bar (me.tongfei progressbar on stderr). */
final class ConsoleProgress implements Progress {

    private final String analysisId;
    private ProgressBar bar;

    ConsoleProgress(String analysisId) {
        this.analysisId = analysisId;
    }

    @Override
    public synchronized void start(String task, long total) {
        done();
        bar = new ProgressBarBuilder().setTaskName(analysisId + ": " + task).setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed().setSpeedUnit(ChronoUnit.SECONDS)
                .setUnit(" " + task, 1).build(); // done/total, elapsed / time left, and items/s
    }

    @Override
    public synchronized void step(long n) {
        if (bar != null) bar.stepBy(n);
    }

    @Override
    public synchronized void done() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
