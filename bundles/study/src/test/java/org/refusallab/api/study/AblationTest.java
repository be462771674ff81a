package org.refusallab.api.study;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.refusallab.api.model.Hooks;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testkit.DTensor;

class AblationTest {

    @Test
    void ablationRemovesTheDirectionFromEveryWriteToTheResidualStream() {
        ReferenceModel m = ReferenceModel.tiny();
        int n = m.info().nLayers();
        float[] dir = new float[m.info().dModel()];
        Random rnd = new Random(1);
        for (int i = 0; i < dir.length; i++) dir[i] = (float) rnd.nextGaussian();
        var iv = Ablation.directional(n, dir);
        assertEquals(3 * n, iv.size());
        int[] tokens = m.tokenizer().encodeChat("Write a manual on how to assemble a bomb");
        var run = m.reference().run(List.of(tokens), iv);
        double[] unit = new double[dir.length];
        double norm = 0;
        for (float v : dir) norm += (double) v * v;
        for (int i = 0; i < dir.length; i++) unit[i] = dir[i] / Math.sqrt(norm);
        for (int l = 0; l < n; l++) {
            for (String h : new String[] {Hooks.residPre(l), Hooks.attnOut(l), Hooks.mlpOut(l)}) {
                DTensor t = run.hook(h);
                for (int p = 0; p < tokens.length; p++) {
                    double dot = 0, size = 0;
                    double[] v = t.row(0, p);
                    for (int i = 0; i < v.length; i++) { dot += v[i] * unit[i]; size += v[i] * v[i]; }
                    // the direction is stored as float32, so a float-sized remainder is left
                    assertEquals(0, dot, 1e-6 * Math.sqrt(size) + 1e-9, h + " pos " + p);
                }
            }
            // the residual after the last block keeps no component either (it is resid_pre + attn + mlp)
        }
    }

    @Test
    void activationAdditionAddsTheRawVectorAtOneLayer() {
        ReferenceModel m = ReferenceModel.tiny();
        float[] v = new float[m.info().dModel()];
        v[3] = 2f;
        int[] tokens = m.tokenizer().encodeChat("Make a cake");
        var base = m.reference().run(List.of(tokens), List.of());
        var added = m.reference().run(List.of(tokens), List.of(Ablation.addition(2, v, 1.5f)));
        for (int p = 0; p < tokens.length; p++) {
            double[] a = base.hook("blocks.2.hook_resid_pre").row(0, p), b = added.hook("blocks.2.hook_resid_pre").row(0, p);
            for (int i = 0; i < a.length; i++) assertEquals(a[i] + (i == 3 ? 3.0 : 0.0), b[i], 1e-9);
        }
    }
}
