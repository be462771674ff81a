package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.sweep.ReadOut;
import org.refusallab.api.sweep.Row;

class SweepBatchesTest {

    private static Row row(int length, boolean generate) {
        Row r = Row.of(new int[length]);
        return generate ? r.reading(ReadOut.generation(2)) : r.reading(ReadOut.logits());
    }

    @Test
    void rowsAreBucketedByLengthStablyAndGenerationRowsBatchedApart() {
        // lengths 5 3 5 3 4 (forward), 2 7 2 (generation) at ids 0..7 in mixed order
        List<Row> rows = new ArrayList<>(List.of(row(5, false), row(3, false), row(2, true), row(5, false), row(7, true), row(3, false),
                row(4, false), row(2, true)));
        List<SweepBatches.Batch> plan = SweepBatches.plan(rows, 2);
        assertEquals(List.of(new SweepBatches.Batch(new int[] {1, 5}, false), new SweepBatches.Batch(new int[] {6, 0}, false),
                new SweepBatches.Batch(new int[] {3}, false), new SweepBatches.Batch(new int[] {2, 7}, true),
                new SweepBatches.Batch(new int[] {4}, true)), plan);
    }

    @Test
    void aGenerationRowWithOtherReadOutsIsRefusedByIndex() {
        Row bad = Row.of(new int[] {1, 2}).reading(ReadOut.generation(2), ReadOut.logits());
        var e = assertThrows(IllegalArgumentException.class, () -> SweepBatches.plan(List.of(row(2, false), bad), 4));
        assertTrue(e.getMessage().startsWith("row 1:"), e.getMessage());
    }
}
