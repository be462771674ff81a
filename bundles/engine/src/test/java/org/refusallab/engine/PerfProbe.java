package org.refusallab.engine;

import java.util.List;
import java.util.Set;
import org.refusallab.api.model.ForwardRequest;

public class PerfProbe {
    public static void main(String[] a) throws Exception {
        FixtureReference ref = new FixtureReference("tiny-gemma");
        GemmaModel m = Engine.load(ref.checkpoint(), "exact");
        List<int[]> ids = FixtureReference.rows(ref.json.at("/cases/batch/input_ids"));
        for (int i = 0; i < 20; i++) {
            long t = System.nanoTime();
            m.run(new ForwardRequest(ids, Set.of(), List.of()));
            System.out.println("forward ms " + (System.nanoTime() - t) / 1e6);
        }
    }
}
