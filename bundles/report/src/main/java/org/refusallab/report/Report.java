package org.refusallab.report;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.refusallab.platform.Section;

/**
 * Everything one published site shows: the run summary and one section per analysis (as the runner left it), in report
 * order. {@code carried} names the sections shown from an earlier run (see {@link SiteHistory}): their id, the run
 * their result came from, and the section this run produced instead (failed), or null when the analysis was not run.
 */
public record Report(Summary summary, List<Section> sections, Map<String, Carried> carried) {

    /** A section whose result is from the earlier run {@code fromRun}; {@code failedNow} is this run's failed section, or null if it did not run. */
    public record Carried(String fromRun, Section failedNow) {
        public boolean stale() {
            return failedNow != null;
        }
    }

    public Report {
        sections = List.copyOf(sections);
        carried = carried == null ? Map.of() : Map.copyOf(carried);
    }

    public Report(Summary summary, List<Section> sections) {
        this(summary, sections, Map.of());
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

    /** The analyses that failed in this run: failed sections, and those shown with a stale result. */
    public List<Section> failedSections() {
        return sections.stream().map(s -> carried.containsKey(s.id()) && carried.get(s.id()).stale() ? carried.get(s.id()).failedNow() : s)
                .filter(Section::failed).toList();
    }

    /** The analyses this run did not run because the model breaks an assumption they declared (NOT APPLICABLE). */
    public List<Section> notApplicableSections() {
        return sections.stream().filter(Section::notApplicable).toList();
    }
}
