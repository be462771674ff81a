package org.refusallab.report;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.refusallab.api.result.AnalysisResult;

/** Everything one published site shows: the run summary and one section per analysis, in report order. */
public record Report(Summary summary, List<Section> sections) {

    public Report {
        sections = List.copyOf(sections);
    }

    /**
     * The run summary on index.html. Maps keep their insertion order (pass LinkedHashMaps) because that is the
     * order the rows are shown in.
     */
    public record Summary(String title, Instant started, Duration took, Map<String, String> model,
                          Map<String, String> study, List<Dataset> datasets, Map<String, String> versions,
                          List<String> problems) {
        public Summary {
            model = model == null ? Map.of() : model;
            study = study == null ? Map.of() : study;
            datasets = datasets == null ? List.of() : List.copyOf(datasets);
            versions = versions == null ? Map.of() : versions;
            problems = problems == null ? List.of() : List.copyOf(problems);
        }
    }

    /** A data file the study read (prompt set, saved direction): name, path relative to the config folder, size, hash. */
    public record Dataset(String name, String file, String detail) { }

    public enum Status { OK, FAILED }

    /**
     * One analysis: where it came from, how it went, and its result (null when it failed). {@code error} is the
     * reason a section failed (first line, then details). {@code customTemplate} is the analysis's own Thymeleaf
     * fragment (report-templates/&lt;id&gt;.html in its bundle), or null: the standard fragments only.
     */
    public record Section(String id, String title, int order, String bundle, String bundleVersion, Status status,
                          String error, Duration took, Map<String, String> parameters, AnalysisResult result,
                          String customTemplate) {

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

    public List<Section> failedSections() {
        return sections.stream().filter(Section::failed).toList();
    }
}
