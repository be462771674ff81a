package org.refusallab.report;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.refusallab.platform.Section;

/** Everything one published site shows: the run summary and one section per analysis (as the runner left it), in report order. */
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

    public List<Section> failedSections() {
        return sections.stream().filter(Section::failed).toList();
    }
}
