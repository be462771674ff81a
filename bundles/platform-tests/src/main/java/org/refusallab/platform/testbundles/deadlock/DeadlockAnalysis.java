package org.refusallab.platform.testbundles.deadlock;

import java.util.concurrent.CountDownLatch;
import org.osgi.service.component.annotations.Component;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisContext;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;

/**
 * Deadlocks with a helper thread of its own: each holds one monitor and waits for the other's. A thread blocked on a
 * monitor wakes neither for interruption nor for Thread.stop.
 */
@Component(service = Analysis.class)
@AnalysisInfo(id = "deadlock", title = "Deadlocking analysis", order = 61)
public class DeadlockAnalysis implements Analysis {
    public static volatile Thread helper;
    public AnalysisResult run(AnalysisContext ctx) throws InterruptedException {
        Object a = new Object();
        Object b = new Object();
        CountDownLatch bothHold = new CountDownLatch(2);
        helper = new Thread(() -> {
            synchronized (b) {
                bothHold.countDown();
                awaitQuietly(bothHold);
                synchronized (a) {
                    bothHold.countDown();
                }
            }
        }, "deadlock-helper");
        helper.setDaemon(true);
        helper.start();
        synchronized (a) {
            bothHold.countDown();
            awaitQuietly(bothHold);
            synchronized (b) {
                return null;
            }
        }
    }

    static void awaitQuietly(CountDownLatch l) {
        while (true) {
            try {
                l.await();
                return;
            } catch (InterruptedException e) {
                // keep waiting: the point is to reach the deadlock
            }
        }
    }
}
