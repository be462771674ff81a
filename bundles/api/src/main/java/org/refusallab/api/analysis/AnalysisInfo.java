package org.refusallab.api.analysis;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * An analysis's metadata as a DS component property type: put it on the component class and bnd writes the service
 * properties {@code refusallab.analysis.id}, {@code .title}, {@code .order}, {@code .parameters} (class names of
 * the parameter declarations), {@code .assumes} and {@code .linearises} (names of {@link Assumption}s) into the
 * component description.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface AnalysisInfo {

    String PREFIX_ = "refusallab.analysis.";

    /** Service property names, for filters and the platform. */
    String ID = PREFIX_ + "id";
    String TITLE = PREFIX_ + "title";
    String ORDER = PREFIX_ + "order";
    String PARAMETERS = PREFIX_ + "parameters";
    /** @since 2.1 */
    String ASSUMES = PREFIX_ + "assumes";
    /** @since 2.1 */
    String LINEARISES = PREFIX_ + "linearises";

    /** Lower-case-dashed: the report page, data folder and configuration PID {@code refusallab.analysis.<id>}. */
    String id();

    String title();

    /** Place in the report: ascending, then by id. */
    int order() default 500;

    /**
     * The annotation types declaring the parameters this analysis reads ({@link Parameters}); the report's parameter
     * table lists their keys. Include {@code StudyParameters.class} when the analysis uses the study service.
     */
    Class<?>[] parameters() default {};

    /**
     * What the analysis's numbers rely on about the model ({@link Assumption}). On a model that breaks one of them the
     * platform does not run the analysis: its page says NOT APPLICABLE with the reason. The report lists them.
     *
     * @since 2.1
     */
    Assumption[] assumes() default {};

    /**
     * What the analysis relies on where the model allows it, and replaces by the assumption's stated linearisation
     * where the model breaks it ({@link Assumption#linearisation()}); the analysis applies it (read
     * {@code model().architecture()}), the report states it. Only assumptions that have a linearisation.
     *
     * @since 2.1
     */
    Assumption[] linearises() default {};
}
