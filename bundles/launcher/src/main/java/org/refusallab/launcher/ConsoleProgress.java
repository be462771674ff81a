package org.refusallab.launcher;

import java.text.DecimalFormat;
import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;
import org.refusallab.api.analysis.Progress;

/**
 * An analysis's progress as a console bar (me.tongfei progressbar on stderr): done/total in the task's unit (the
 * study's sweeps count rows), elapsed / time left, and units per second.
 */
final class ConsoleProgress implements Progress {

    private final String analysisId;
    private final java.util.function.Supplier<ProgressBarConsumer> consumer;
    private ProgressBar bar;

    ConsoleProgress(String analysisId) {
        this(analysisId, () -> new ConsoleProgressBarConsumer(System.err));
    }

    ConsoleProgress(String analysisId, java.util.function.Supplier<ProgressBarConsumer> consumer) {
        this.analysisId = analysisId;
        this.consumer = consumer;
    }

    @Override
    public synchronized void start(String task, long total) {
        done();
        // three decimals: at gemma-2b on a busy machine a row can take seconds, and "#.0" showed ".0 rows/s"
        bar = new ProgressBarBuilder().setTaskName(analysisId + ": " + task).setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).setConsumer(consumer.get())
                .showSpeed(new DecimalFormat("0.###")).setSpeedUnit(ChronoUnit.SECONDS).setUnit(" " + task, 1).build();
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
