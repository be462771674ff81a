package org.refusallab.api.model;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class InterventionTest {

    @Test
    void equalEditsAreEqualAndPrintTheSameStableText() {
        float[] r = {3f, 4f};
        Intervention a = Intervention.at(Hooks.residPre(3)).positions(7).projectOut(r);
        Intervention b = Intervention.at("blocks.3.hook_resid_pre").positions(7).projectOut(new float[] {3f, 4f});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(a.toString(), b.toString());
        assertEquals("project_out blocks.3.hook_resid_pre rows=all positions=[7] heads=all direction=sha256:" + Intervention.hash(new float[] {0.6f, 0.8f}),
                a.toString());
        assertArrayEquals(new float[] {0.6f, 0.8f}, a.direction(), 1e-7f, "the direction is stored as its unit vector");
        assertNotEquals(a, Intervention.at(Hooks.residPre(3)).positions(8).projectOut(r));
        assertNotEquals(a, Intervention.at(Hooks.residPre(3)).positions(7).clamp(r, 0f));
        assertEquals(3, a.layer());
    }

    @Test
    void namedStepsSayWhereAndWhat() {
        Tensor src = Tensor.zeros(2, 5, 4, 8);
        Intervention iv = Intervention.at(Hooks.attnResult(8)).rows(0, 1).heads(3).replaceWith(src).fromRows(1, 0);
        assertEquals(Intervention.Kind.REPLACE, iv.kind());
        assertArrayEquals(new int[] {0, 1}, iv.rows());
        assertArrayEquals(new int[] {1, 0}, iv.sourceRows());
        assertArrayEquals(new int[] {3}, iv.heads());
        assertNull(iv.positions());
        assertTrue(iv.toString().startsWith("replace blocks.8.attn.hook_result rows=[0,1] positions=all heads=[3] source=[2, 5, 4, 8]:sha256:"), iv.toString());
        var e = assertThrows(IllegalArgumentException.class, () -> Intervention.at(Hooks.mlpOut(0)).heads(1).zero());
        assertTrue(e.getMessage().contains("no head axis"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Intervention.at(Hooks.residPre(0)).projectOut(new float[] {0f, 0f}));
    }

    @Test
    void interventionsAreSerialisableValues() throws Exception {
        List<Intervention> ivs = List.of(Intervention.at(Hooks.residPre(1)).add(new float[] {1f, 2f}, 0.5f),
                Intervention.at(Hooks.residPre(1)).positions(0, 2).replaceWith(new Tensor(new long[] {1, 3, 2}, new float[] {1, 2, 3, 4, 5, 6})));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new java.util.ArrayList<>(ivs));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(ivs, in.readObject());
        }
    }

    @Test
    void hookNamesFollowTransformerLens() {
        assertEquals("blocks.10.hook_resid_pre", Hooks.residPre(10));
        assertEquals("blocks.8.attn.hook_result", Hooks.attnResult(8));
        assertEquals("blocks.*.hook_mlp_out", Hooks.everyLayer("hook_mlp_out"));
        List<String> names = Hooks.names(2);
        assertEquals(1 + 2 * Hooks.BLOCK_HOOKS.size() + 3, names.size());
        assertEquals("hook_embed", names.get(0));
        assertEquals("logits", names.get(names.size() - 1));
        assertEquals(-1, Hooks.layerOf("ln_final.hook_scale"));
        assertEquals(12, Hooks.layerOf("blocks.12.mlp.hook_post"));
        assertThrows(IllegalArgumentException.class, () -> Hooks.block(0, "hook_nope"));
    }
}
