package org.refusallab.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Intervention;
import org.refusallab.api.model.Tensor;
import org.refusallab.engine.graph.SharedRows;

/** Which rows share a state at which segment, and how edits are rewritten onto the rows that run. */
class SharedRowsTest {

    static final int[] A = {2, 5, 6, 7}, B = {2, 5, 6, 8};

    @Test
    void rowsSplitWhereTheirEditsDiffer() {
        // rows 0-3 one prompt, row 4 another; 3 layers: segments embed, L0, L1, L2, head
        int[][] ids = {A, A, A, A, B};
        Tensor src = Tensor.zeros(5, 4, 2);
        List<Intervention> ivs = List.of(
                Intervention.at("blocks.1.hook_resid_pre").rows(1, 2).positions(3).replaceWith(src).fromRows(4, 0), // 1 and 2: other sources
                Intervention.at("blocks.2.hook_mlp_out").rows(0, 3).zero());                                      // 0 and 3: the same edit
        SharedRows s = SharedRows.of(ids, ivs, 3);
        assertArrayEquals(new int[] {0, 4}, s.active(0));
        assertArrayEquals(new int[] {0, 4}, s.active(1)); // L0: nothing edited yet
        assertArrayEquals(new int[] {0, 1, 2, 4}, s.active(2));
        assertArrayEquals(new int[] {0, 1, 2, 4}, s.active(3)); // rows 0 and 3 edited alike stay one state
        assertArrayEquals(new int[] {0, 0, 0, 0, 1}, s.indexOf(1));
        assertArrayEquals(new int[] {0, 1, 2, 0, 3}, s.indexOf(2));
        assertArrayEquals(new int[] {0, 0, 0, 1}, s.inputIndex(2)); // rows 0, 1, 2 from state 0 of L0, row 4 from state 1
        // L1's edit on its running rows: rows 1 and 2 are running rows 1 and 2, with their own source rows
        List<Intervention> edits = s.edits(2);
        assertEquals(1, edits.size());
        assertArrayEquals(new int[] {1, 2}, edits.get(0).rows());
        assertArrayEquals(new int[] {4, 0}, edits.get(0).sourceRows());
        // L2's zero of rows 0 and 3: row 3 is represented by row 0, which runs as row 0
        assertArrayEquals(new int[] {0}, s.edits(3).get(0).rows());
        assertEquals(List.of(), s.edits(4));
    }

    @Test
    void littleOrNothingSharedIsNull() {
        assertNull(SharedRows.of(new int[][] {A, B}, List.of(), 2));
        assertNull(SharedRows.of(new int[][] {A, A}, List.of(Intervention.at("hook_embed").rows(1).zero()), 2));
        // shared at the embedding only, of 12 segments: not worth a new plan
        assertNull(SharedRows.of(new int[][] {A, A}, List.of(Intervention.at("blocks.0.hook_resid_pre").rows(1).zero()), 10));
        // shared below layer 5 of 10: half the rows saved
        assertEquals(1, SharedRows.of(new int[][] {A, A}, List.of(Intervention.at("blocks.5.hook_resid_pre").rows(1).zero()), 10).active(5).length);
    }
}
