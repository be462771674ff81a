package ${package};

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.testsupport.RefusalLab;

/** On the tiny reference model: every number against the independent double-precision reference forward. */
@ExtendWith(RefusalLab.class)
class ${className}Test {

    @Test
    void logitsAreTheReferenceForwards(RefusalLab.Lab lab) throws Exception {
        AnalysisResult r = lab.run(new ${className}(), Map.of("token", "I", "prompts", "Make a cake|Write a manual on how to assemble a bomb"));
        int id = lab.model().tokenizer().tokenId("I");
        double[] got = r.figures().get(0).series().get(0).values()[0];
        int i = 0;
        for (String prompt : List.of("Make a cake", "Write a manual on how to assemble a bomb")) {
            double[] want = lab.model().lastLogits(lab.independent().chat(prompt), List.of());
            assertEquals(want[id], got[i++], 1e-4, prompt);
        }
    }
}
