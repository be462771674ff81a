package org.refusallab.api.sweep;

import java.util.List;
import java.util.function.BooleanSupplier;
import org.osgi.annotation.versioning.ProviderType;
import org.refusallab.api.analysis.Progress;

/**
 * Runs rows. The in-process service batches them in order into forwards of at most {@code maxBatch} rows (left
 * padded), merging equal interventions across rows; a later service may run them elsewhere. Results come back in
 * row order.
 */
@ProviderType
public interface SweepService {

    /** How to run: batch size, a progress bar stepped per batch, and a cancellation check between batches. */
    record Options(int maxBatch, Progress progress, BooleanSupplier cancelled) {
        public Options {
            if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
            progress = progress == null ? Progress.NONE : progress;
            cancelled = cancelled == null ? () -> false : cancelled;
        }

        public static Options batches(int maxBatch) {
            return new Options(maxBatch, Progress.NONE, () -> false);
        }
    }

    List<RowResult> run(List<Row> rows, Options options);
}
