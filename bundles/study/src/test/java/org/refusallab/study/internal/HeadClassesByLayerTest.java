package org.refusallab.study.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.study.HeadClasses;
import org.refusallab.api.study.HeadClasses.Head;

/** {@link HeadClasses#byLayer}: heads grouped per layer, layers ascending, each layer's heads in the order given. */
class HeadClassesByLayerTest {

    @Test
    void groupsHeadsByLayerInLayerOrder() {
        var grouped = HeadClasses.byLayer(List.of(new Head(9, 3), new Head(6, 1), new Head(9, 0), new Head(6, 2)));
        assertEquals(List.of(6, 9), List.copyOf(grouped.keySet()));
        assertArrayEquals(new int[] {1, 2}, grouped.get(6));
        assertArrayEquals(new int[] {3, 0}, grouped.get(9));
        assertEquals(0, HeadClasses.byLayer(List.of()).size());
    }
}
