package org.refusallab.api.sweep;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Hooks;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.api.study.RefusalMetric;

/** Rows, their interventions and read-outs, and results are plain values: equal after a round trip through Java serialisation. */
class RowTest {

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T value) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }

    @Test
    void rowsAndResultsSurviveSerialisation() throws Exception {
        Row row = Row.of(new int[] {2, 5, 9})
                .with(Intervention.at(Hooks.residPre(1)).positions(-1).replaceWith(new Tensor(new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6})))
                .reading(ReadOut.metric(new RefusalMetric(RefusalMetric.Kind.LOGIT, 4)), ReadOut.logits(1), ReadOut.activation(Hooks.mlpOut(0), 0, -1),
                        ReadOut.projection(Hooks.residPost(1), null, new float[] {1f, 0f}), ReadOut.activationAll(Hooks.EMBED));
        Row back = roundTrip(row);
        assertEquals(row, back);
        assertEquals(row.hashCode(), back.hashCode());
        assertNotEquals(row, Row.of(new int[] {2, 5, 9}));
        List<RowResult> results = new ArrayList<>(List.of(new RowResult(List.of(1.5, new float[] {1f}, new double[][] {{2.0}}, new int[] {7}))));
        List<RowResult> again = roundTrip(results);
        assertEquals(1.5, again.get(0).metric());
        assertArrayEquals(new int[] {7}, again.get(0).generated(3));
        assertThrows(IllegalArgumentException.class, () -> ReadOut.generation(0));
    }
}
