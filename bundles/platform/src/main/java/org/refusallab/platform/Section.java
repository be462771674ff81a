package org.refusallab.platform;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.refusallab.api.result.AnalysisResult;

/**
 * One analysis as the runner left it, and as the report shows it: where it came from, how it went, and its result
 * (null when it failed). {@code error} is the reason a section failed (first line, then details). {@code
 * customTemplate} is the analysis's own Thymeleaf fragment (report-templates/&lt;id&gt;.html in its bundle), or null:
 * the standard fragments only. {@code assumptions} are the analysis's declared assumptions checked against the model,
 * one line each ({@code Assumption.Check.describe()}). A NOT_APPLICABLE section did not run: the model breaks an
 * assumption the analysis has no linearisation for; {@code error} says which and why, and there is no result.
 */
public record Section(String id, String title, int order, String bundle, String bundleVersion, Status status,
                      String error, Duration took, Map<String, String> parameters, AnalysisResult result,
                      String customTemplate, List<String> assumptions) {

    public enum Status { OK, FAILED, NOT_APPLICABLE }

    public Section(String id, String title, int order, String bundle, String bundleVersion, Status status,
                   String error, Duration took, Map<String, String> parameters, AnalysisResult result) {
        this(id, title, order, bundle, bundleVersion, status, error, took, parameters, result, null, List.of());
    }

    public Section(String id, String title, int order, String bundle, String bundleVersion, Status status,
                   String error, Duration took, Map<String, String> parameters, AnalysisResult result, String customTemplate) {
        this(id, title, order, bundle, bundleVersion, status, error, took, parameters, result, customTemplate, List.of());
    }

    public Section withCustomTemplate(String template) {
        return new Section(id, title, order, bundle, bundleVersion, status, error, took, parameters, result, template, assumptions);
    }

    public Section withAssumptions(List<String> lines) {
        return new Section(id, title, order, bundle, bundleVersion, status, error, took, parameters, result, customTemplate, lines);
    }

    /** A section that did not run because the model breaks an assumption it declared without a linearisation. */
    public static Section notApplicable(String id, String title, int order, String bundle, String version, String reason,
                                        Map<String, String> parameters, List<String> assumptions) {
        return new Section(id, title, order, bundle, version, Status.NOT_APPLICABLE, reason, Duration.ZERO, parameters, null, null, assumptions);
    }

    public boolean notApplicable() {
        return status == Status.NOT_APPLICABLE;
    }

    public Section {
        if (id == null || !id.matches("[a-z0-9][a-z0-9-]*") || id.equals("index")) {
            throw new IllegalArgumentException("analysis id must be lower-case-dashed and not 'index': " + id);
        }
        if (status == Status.OK && result == null) throw new IllegalArgumentException("section " + id + " is OK but has no result");
        parameters = parameters == null ? Map.of() : parameters;
        assumptions = assumptions == null ? List.of() : List.copyOf(assumptions);
        if (status == Status.NOT_APPLICABLE && (error == null || result != null)) {
            throw new IllegalArgumentException("section " + id + " is NOT APPLICABLE: it needs a reason and has no result");
        }
    }

    public static Section failed(String id, String title, int order, String bundle, String version, String error,
                                 Duration took, Map<String, String> parameters) {
        return new Section(id, title, order, bundle, version, Status.FAILED, error, took, parameters, null);
    }

    public boolean failed() {
        return status == Status.FAILED;
    }

    /** The first line of the error (the rest is a stack trace, shown on the analysis's page). */
    public String errorLine() {
        return error == null ? null : error.lines().findFirst().orElse("");
    }

    public String page() {
        return id + ".html";
    }
}
