package org.refusallab.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.study.StudyService;
import org.refusallab.api.sweep.SweepService;
import org.refusallab.study.internal.InProcessSweep;
import org.refusallab.study.internal.StudyComponent;
import org.refusallab.testkit.lab.Independent;
import org.refusallab.testkit.lab.ReferenceModel;
import org.refusallab.testkit.lab.TestContext;

/**
 * The JUnit 5 extension analysis tests run with: a {@link Lab} parameter holding the tiny reference model (the
 * testkit's double-precision forward behind the HookedModel API), the independent computations to check against,
 * the real study and sweep services on that model, and a fresh config folder per test.
 *
 * <pre>{@code
 * @ExtendWith(RefusalLab.class)
 * class MyAnalysisTest {
 *     @Test void cells(RefusalLab.Lab lab) {
 *         AnalysisResult r = lab.run(new MyAnalysis(lab.studies()), Map.of("threshold", "0.5"));
 *         ... compare with lab.independent() ...
 *     }
 * }
 * }</pre>
 */
public final class RefusalLab implements ParameterResolver, AfterEachCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RefusalLab.class);

    /** One test's lab: the model, the services and one run's shared results. */
    public static final class Lab {
        private final ReferenceModel model = ReferenceModel.tiny();
        private final Independent independent = new Independent(model);
        private final SweepService sweeps = new InProcessSweep(model);
        private final StudyService studies = new StudyComponent(sweeps);
        private final Path config;
        private TestContext run;

        Lab(Path config) {
            this.config = config;
        }

        public ReferenceModel model() { return model; }
        public Independent independent() { return independent; }
        public SweepService sweeps() { return sweeps; }
        public StudyService studies() { return studies; }
        public Path configDirectory() { return config; }

        /**
         * The context of one analysis in this test's run: parameters by the keys production uses; analyses of one
         * test share the run's results (the refusal direction is fitted once).
         */
        public TestContext context(String analysisId, Map<String, String> parameters) {
            run = run == null ? TestContext.of(analysisId, model, config, parameters) : run.forAnalysis(analysisId, parameters);
            return run;
        }

        /** Runs an analysis (its id from {@link AnalysisInfo}) and checks the platform's rules for its result. */
        public AnalysisResult run(Analysis analysis, Map<String, String> parameters) throws Exception {
            AnalysisInfo info = analysis.getClass().getAnnotation(AnalysisInfo.class);
            if (info == null) throw new AssertionError(analysis.getClass().getName() + " has no @AnalysisInfo");
            return Independent.wellFormed(analysis.run(context(info.id(), parameters)), false);
        }

        /** The study test parameters: the direction fixed at (layer, position), small batches, 4 new tokens. */
        public static Map<String, String> studyParameters(int layer, int position, int maxBatch) {
            return Independent.parameters(layer, position, maxBatch);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == Lab.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return e.getStore(NS).getOrComputeIfAbsent("lab", k -> {
            try {
                return new Lab(Files.createTempDirectory("refusal-lab-test-config"));
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }, Lab.class);
    }

    @Override
    public void afterEach(ExtensionContext e) throws IOException {
        Lab lab = e.getStore(NS).remove("lab", Lab.class);
        if (lab == null) return;
        try (Stream<Path> files = Files.walk(lab.configDirectory())) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }
}
