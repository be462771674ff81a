package org.refusallab.platform;

import java.time.Duration;
import java.util.Map;
import org.refusallab.api.result.AnalysisResult;

/**
 * One analysis as the runner left it, and as the report shows it: where it came from, how it went, and its result
 * (null when it failed). {@code error} is the reason a section failed (first line, then details). {@code
 * customTemplate} is the analysis's own Thymeleaf fragment (report-templates/&lt;id&gt;.html in its bundle), or null:
 * the standard fragments only.
 */
public record Section(String id, String title, int order, String bundle, String bundleVersion, Status status,
                      String error, Duration took, Map<String, String> parameters, AnalysisResult result,
                      String customTemplate) {

    public enum Status { OK, FAILED }

    public Section(String id, String title, int order, String bundle, String bundleVersion, Status status,
                   String error, Duration took, Map<String, String> parameters, AnalysisResult result) {
        this(id, title, order, bundle, bundleVersion, status, error, took, parameters, result, null);
    }

    public Section withCustomTemplate(String template) {
        return new Section(id, title, order, bundle, bundleVersion, status, error, took, parameters, result, template);
    }

    public Section {
        if (id == null || !id.matches("[a-z0-9][a-z0-9-]*") || id.equals("index")) {
            throw new IllegalArgumentException("analysis id must be lower-case-dashed and not 'index': " + id);
        }
        if (status == Status.OK && result == null) throw new IllegalArgumentException("section " + id + " is OK but has no result");
        parameters = parameters == null ? Map.of() : parameters;
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
