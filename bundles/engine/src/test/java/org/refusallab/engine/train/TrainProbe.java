package org.refusallab.engine.train;

import java.util.*;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.refusallab.engine.graph.GemmaGraph;

public class TrainProbe {
    public static void main(String[] a) {
        var cfg = GemmaTrainerTest.TINY;
        var w = GemmaTrainer.initialWeights(cfg, 1);
        SameDiff sd = GemmaGraph.build(cfg, w, new GemmaGraph.Variant(false, true));
        var data = GemmaTrainerTest.data();
        var mds = GemmaTrainer.toMultiDataSet(data.subList(0, 16), 0);
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(GemmaGraph.INPUT_IDS, mds.getFeatures(0)); ph.put(GemmaGraph.POSITION_IDS, mds.getFeatures(1)); ph.put(GemmaGraph.ATTENTION_BIAS, mds.getFeatures(2));
        ph.put(GemmaGraph.LABELS, mds.getLabels(0)); ph.put(GemmaGraph.LOSS_MASK, mds.getLabels(1));
        String[] names = w.keySet().toArray(new String[0]);
        for (int i = 0; i < 8; i++) {
            long t = System.nanoTime();
            var g = sd.calculateGradients(ph, names);
            double loss = sd.output(ph, GemmaGraph.LOSS).get(GemmaGraph.LOSS).getDouble(0);
            System.out.println("grad ms " + (System.nanoTime() - t) / 1e6 + " loss " + loss + " n=" + g.size());
        }
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3))
            .dataSetFeatureMapping(GemmaGraph.INPUT_IDS, GemmaGraph.POSITION_IDS, GemmaGraph.ATTENTION_BIAS)
            .dataSetLabelMapping(GemmaGraph.LABELS, GemmaGraph.LOSS_MASK).build());
        for (int i = 0; i < 5; i++) {
            long t = System.nanoTime();
            sd.fit(mds);
            System.out.println("fit ms " + (System.nanoTime() - t) / 1e6);
        }
    }
}
