package org.refusallab.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.refusallab.api.analysis.Analysis;
import org.refusallab.api.analysis.AnalysisInfo;
import org.refusallab.api.analysis.Assumption;
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
 * the real study and sweep services on that model, and a fresh config folder per test. {@code @RefusalLab.OnModel(
 * Fixture.TINY_GEMMA2)} on the class or method puts the lab on the Gemma 2 fixture; {@link Lab#run} refuses, as the
 * platform does, an analysis whose declared assumptions the model breaks ({@link NotApplicable}).
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

    /** The fixture models a lab can hold. */
    public enum Fixture {
        /** Gemma 1 (gemma-2b-it's architecture), the default: {@link ReferenceModel#tiny()}. */
        TINY_GEMMA,
        /** Gemma 2 (soft-caps, post-norms, sliding window): {@link ReferenceModel#tinyGemma2()}. */
        TINY_GEMMA2;

        ReferenceModel load() {
            return this == TINY_GEMMA ? ReferenceModel.tiny() : ReferenceModel.tinyGemma2();
        }
    }

    /** Puts the labs of a test class or method on another fixture model ({@code @RefusalLab.OnModel(Fixture.TINY_GEMMA2)}). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.TYPE, ElementType.METHOD})
    public @interface OnModel {
        Fixture value();
    }

    /**
     * What {@link Lab#run} throws for an analysis that declares an assumption the lab's model breaks without a
     * linearisation: the platform would not run it, and its page would say NOT APPLICABLE with this message.
     */
    public static final class NotApplicable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotApplicable(String reason) {
            super(reason);
        }
    }

    /** One test's lab: the model, the services and one run's shared results. */
    public static final class Lab {
        private final ReferenceModel model;
        private final Independent independent;
        private final SweepService sweeps;
        private final StudyService studies;
        private final Path config;
        private TestContext run;

        Lab(Path config, Fixture fixture) {
            this.config = config;
            this.model = fixture.load();
            this.independent = new Independent(model);
            this.sweeps = new InProcessSweep(model);
            this.studies = new StudyComponent(sweeps);
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

        /**
         * Runs an analysis (its id from {@link AnalysisInfo}) and checks the platform's rules for its result. As the
         * platform, it first checks the analysis's declared assumptions against the model: one the model breaks
         * without a linearisation throws {@link NotApplicable} and the analysis does not run.
         */
        public AnalysisResult run(Analysis analysis, Map<String, String> parameters) throws Exception {
            AnalysisInfo info = analysis.getClass().getAnnotation(AnalysisInfo.class);
            if (info == null) throw new AssertionError(analysis.getClass().getName() + " has no @AnalysisInfo");
            String notApplicable = Assumption.notApplicableReason(assumptions(analysis));
            if (notApplicable != null) throw new NotApplicable("analysis " + info.id() + ": " + notApplicable);
            return Independent.wellFormed(analysis.run(context(info.id(), parameters)), false);
        }

        /** The analysis's declared assumptions checked against this lab's model, as the report lists them. */
        public List<Assumption.Check> assumptions(Analysis analysis) {
            AnalysisInfo info = analysis.getClass().getAnnotation(AnalysisInfo.class);
            if (info == null) throw new AssertionError(analysis.getClass().getName() + " has no @AnalysisInfo");
            return Assumption.check(model.architecture(), info);
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
                return new Lab(Files.createTempDirectory("refusal-lab-test-config"), fixture(e));
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }, Lab.class);
    }

    /** The method's {@link OnModel}, else its class's (or an enclosing class's), else tiny-gemma. */
    private static Fixture fixture(ExtensionContext e) {
        OnModel on = e.getTestMethod().map(m -> m.getAnnotation(OnModel.class)).orElse(null);
        for (Class<?> c = e.getTestClass().orElse(null); on == null && c != null; c = c.getEnclosingClass()) on = c.getAnnotation(OnModel.class);
        return on == null ? Fixture.TINY_GEMMA : on.value();
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
