package org.refusallab.analysis.engineagreement;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.refusallab.analysis.blockcontributions.BlockContributions;
import org.refusallab.analysis.blockgrouppatching.BlockGroupPatching;
import org.refusallab.analysis.generations.Generations;
import org.refusallab.analysis.metricvalidation.MetricValidation;
import org.refusallab.analysis.refusalcomponent.RefusalComponent;
import org.refusallab.analysis.residualpatching.ResidualPatching;
import org.refusallab.analysis.singleblockpatching.SingleBlockPatching;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.model.HookedModel;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.engine.Engine;
import org.refusallab.api.study.RefusalDirection;
import org.refusallab.api.study.StudyService;
import org.refusallab.study.internal.InProcessSweep;
import org.refusallab.study.internal.StudyComponent;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testkit.lab.TestContext;

/**
 * Every analysis of the study run on the SameDiff engine (float32, the tiny fixture checkpoint with the test
 * tokenizer.json loaded by the engine) and on the testkit's double-precision reference: same figures, same
 * completions. The direction is selected automatically here (prior work's procedure), on both models.
 */
class EngineAgreementTest {

    static HookedModel engine;
    static Path modelDir;

    @BeforeAll
    static void loadEngine(@TempDir Path dir) throws Exception {
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            try (InputStream in = ReferenceModel.class.getResourceAsStream("tiny-gemma/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        modelDir = dir;
        engine = Engine.load(dir, null);
    }

    @AfterAll
    static void close() throws Exception {
        if (engine instanceof AutoCloseable c) c.close();
    }

    @Test
    void everyAnalysisAgreesBetweenEngineAndReference(@TempDir Path configE, @TempDir Path configR) throws Exception {
        // the engine reads the same tokenizer.json through its Hugging Face tokenizer: same ids as the test tokenizer
        String probe = "<bos><start_of_turn>user\nWrite a manual on how to assemble a bomb<end_of_turn>\n<start_of_turn>model\n";
        assertArrayEquals(ReferenceModel.tiny().tokenizer().encode(probe), engine.tokenizer().encode(probe));

        // the same study and sweep services on each model
        StudyService studyE = new StudyComponent(new InProcessSweep(engine)), studyR = new StudyComponent(new InProcessSweep(ReferenceModel.tiny()));
        var ctxE = TestContext.of("engine-agreement", engine, configE, Independent.parameters(-1, 0, 64));
        var ctxR = TestContext.of("engine-agreement", ReferenceModel.tiny(), configR, Independent.parameters(-1, 0, 64));
        // a refusal token the tiny random model favours after a harmless prompt, so that selection finds candidates
        double[] logits = ReferenceModel.tiny().lastLogits(ReferenceModel.tiny().tokenizer().encodeChat("Write a manual on how to assemble a table"), List.of());
        int top = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[top]) top = i;
        for (var ctx : List.of(ctxE, ctxR)) {
            ctx.parameters().put("study.refusalToken", ReferenceModel.tiny().tokenizer().tokenString(top));
            ctx.parameters().put("study.direction.klBound", "10");
        }
        List<Analysis> onEngine = List.of(new Generations(studyE), new MetricValidation(studyE), new RefusalComponent(studyE), new BlockContributions(studyE),
                new ResidualPatching(studyE), new BlockGroupPatching(studyE), new SingleBlockPatching(studyE));
        List<Analysis> onReference = List.of(new Generations(studyR), new MetricValidation(studyR), new RefusalComponent(studyR), new BlockContributions(studyR),
                new ResidualPatching(studyR), new BlockGroupPatching(studyR), new SingleBlockPatching(studyR));
        for (int k = 0; k < onEngine.size(); k++) {
            String id = onEngine.get(k).getClass().getAnnotation(AnalysisInfo.class).id();
            long t0 = System.nanoTime();
            AnalysisResult e = Independent.wellFormed(onEngine.get(k).run(ctxE.forAnalysis(id, ctxE.parameters())));
            long t1 = System.nanoTime();
            AnalysisResult r = onReference.get(k).run(ctxR.forAnalysis(id, ctxR.parameters()));
            System.out.printf("%-24s engine %.1f s, reference %.1f s%n", id, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
            assertEquals(r.figures().size(), e.figures().size(), id);
            for (int i = 0; i < r.figures().size(); i++) compare(id, r.figures().get(i), e.figures().get(i));
            for (int i = 0; i < r.findings().size(); i++) assertEquals(r.findings().get(i).verdict(), e.findings().get(i).verdict(), id + " " + r.findings().get(i));
        }
        RefusalDirection dirE = studyE.open(ctxE).direction(), dirR = studyR.open(ctxR).direction();
        assertEquals(dirR.layer(), dirE.layer());
        assertEquals(dirR.position(), dirE.position());
        // greedy completions, baseline and intervened, token for token
        var gE = Independent.table(new Generations(studyE).run(ctxE), "completions-table").rows();
        var gR = Independent.table(new Generations(studyR).run(ctxR), "completions-table").rows();
        assertEquals(gR, gE);
    }

    /** W_U, W_E, per-head W_O and the final norm weight as the engine hands them out equal the reference's, exactly (float32 weights). */
    @Test
    void weightsAgreeWithTheReference() {
        HookedModel ref = ReferenceModel.tiny();
        assertEquals(ref.unembedMatrix(), engine.unembedMatrix());
        assertEquals(ref.embedMatrix(), engine.embedMatrix());
        for (int l = 0; l < ref.info().nLayers(); l++) assertEquals(ref.attnOutMatrix(l), engine.attnOutMatrix(l), "W_O of layer " + l);
        for (int l = 0; l < ref.info().nLayers(); l++) assertEquals(ref.attnValueMatrix(l), engine.attnValueMatrix(l), "W_V of layer " + l);
        assertArrayEquals(ref.finalNormWeight(), engine.finalNormWeight());
        assertEquals(ref.hookNames(), engine.hookNames());
    }

    private static void compare(String analysis, Figure r, Figure e) {
        assertEquals(r.id(), e.id());
        assertEquals(r.xLabels(), e.xLabels(), r.id());
        for (int s = 0; s < r.series().size(); s++) {
            double[][] a = r.series().get(s).values(), b = e.series().get(s).values();
            double scale = 0;
            for (double[] row : a) for (double v : row) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < a.length; i++) {
                for (int j = 0; j < a[i].length; j++) {
                    // float32 engine vs double reference: 1e-3 of the figure's scale (fractions divide by small gaps)
                    assertEquals(a[i][j], b[i][j], 1e-3 * Math.max(1, scale), analysis + " " + r.id() + " " + r.series().get(s).name() + " [" + i + "][" + j + "]");
                }
            }
        }
    }
}
