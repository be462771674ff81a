package org.refusallab.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.refusallab.api.result.AnalysisResult;
import org.refusallab.api.result.Figure;
import org.refusallab.api.result.Figure.Kind;
import org.refusallab.api.result.Figure.Series;
import org.refusallab.api.result.Table;

class ResultValidatorTest {

    static Figure fig(String id, Kind kind, List<String> x, List<String> y, List<Series> s, List<Figure.ReferenceLine> refs) {
        return new Figure(id, id, kind, "x", "y", "", x, y, s, refs, "", null);
    }

    static List<String> problems(Figure... f) {
        return ResultValidator.problems(new AnalysisResult("", List.of(f), List.of(), List.of()));
    }

    @Test
    void aWellFormedResultPasses() {
        assertEquals(List.of(), problems(
                fig("l", Kind.LINE, List.of("a", "b"), List.of(), List.of(Series.of("s", new double[] {1, 2}), Series.of("t", new double[] {3, 4})),
                        List.of(new Figure.ReferenceLine("50%", "y", 0.5))),
                fig("h", Kind.HEATMAP, List.of("a", "b"), List.of("r"), List.of(new Series("m", new double[][] {{1, Double.NaN}})), List.of()),
                fig("g", Kind.HISTOGRAM, List.of(), List.of(), List.of(Series.of("s", new double[] {1, 2, 3})), List.of())));
    }

    @Test
    void eachProblemIsNamed() {
        assertEquals(List.of("run() returned null"), ResultValidator.problems(null));
        assertEquals(List.of("figure a: id used twice"), problems(
                fig("a", Kind.BAR, List.of("x"), List.of(), List.of(Series.of("s", new double[] {1})), List.of()),
                fig("a", Kind.BAR, List.of("x"), List.of(), List.of(Series.of("s", new double[] {1})), List.of())));
        assertEquals(List.of("figure a, series s: value 1 is Infinity"),
                problems(fig("a", Kind.SCATTER, List.of("1", "2"), List.of(), List.of(Series.of("s", new double[] {1, Double.POSITIVE_INFINITY})), List.of())));
        assertEquals(List.of("figure h: 1 rows for 2 y labels"),
                problems(fig("h", Kind.HEATMAP, List.of("a"), List.of("r", "q"), List.of(new Series("m", new double[][] {{1}})), List.of())));
        assertEquals(List.of("figure h, row 0: 2 cells for 1 x labels"),
                problems(fig("h", Kind.HEATMAP, List.of("a"), List.of("r"), List.of(new Series("m", new double[][] {{1, 2}})), List.of())));
        assertEquals(List.of("figure g, series s: needs one non-empty row of samples"),
                problems(fig("g", Kind.HISTOGRAM, List.of(), List.of(), List.of(Series.of("s", new double[0])), List.of())));
        assertEquals(List.of("figure l: series name 's' used twice"),
                problems(fig("l", Kind.LINE, List.of("a"), List.of(), List.of(Series.of("s", new double[] {1}), Series.of("s", new double[] {2})), List.of())));
        assertEquals(List.of("figure l: reference line axis must be \"x\" or \"y\", got z"),
                problems(fig("l", Kind.LINE, List.of("a"), List.of(), List.of(Series.of("s", new double[] {1})), List.of(new Figure.ReferenceLine("r", "z", 1)))));
        assertEquals(List.of("figure e: no series"), problems(fig("e", Kind.BAR, List.of("a"), List.of(), List.of(), List.of())));
    }

    @Test
    void tableIdsShareTheFigureNamespaceAndMustBeFileNames() {
        Figure f = fig("a", Kind.BAR, List.of("x"), List.of(), List.of(Series.of("s", new double[] {1})), List.of());
        Table same = new Table("a", "t", List.of("c"), List.of(List.of("v")), "", null);
        Table bad = new Table("../etc", "t", List.of("c"), List.of(List.of("v")), "", null);
        assertEquals(List.of("table a: id used twice (ids are shared with figures: they name the data files)", "table id must be lower-case-dashed: ../etc"),
                ResultValidator.problems(new AnalysisResult("", List.of(f), List.of(same, bad), List.of())));
    }
}
