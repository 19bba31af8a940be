package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.experiments.sweep.SweepRunner;
import io.github.pathsgd.experiments.sweep.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Figures and reports from the result files of tiny sweeps (every figure kind, compare with step-size selection). */
class ReportTest {
  static String preset(String figure, String grid, String extra) {
    return """
        name: tiny-%s
        description: tiny
        figure: %s
        claim: a claim
        base: {dataset: mnist-sample, hidden: [8], per_class_train: 4, validation_size: 50, epochs: 2, threads: 1,
               unbalance_count: 4, batch_size: 20, seed: 3}
        grid: %s
        %s
        scales:
          smoke: {description: s}
          quick: {description: q}
          paper: {description: p}
        """.formatted(figure, figure, grid, extra);
  }

  static Path sweep(Path out, String yaml, int seeds) {
    new SweepRunner(SweepSpec.parse(yaml, "test"), "smoke", seeds, SweepRunner.Options.of(out)).run();
    return out;
  }

  @Test
  void everyFigureKindGivesNonEmptyPngSvgMdAndHtml(@TempDir Path tmp) throws Exception {
    Path size = sweep(tmp.resolve("size"), preset("size", "{hidden: [[4], [8]]}", ""), 2);
    Path resc = sweep(tmp.resolve("resc"), preset("rescaling",
        "{optimizer: [sgd, path-sgd], init: [balanced, unbalanced]}", ""), 1);
    Path cmp = sweep(tmp.resolve("cmp"), preset("compare", "{optimizer: [path-sgd, sgd], init: [balanced]}",
        "step_size: {alphas: [1, 2], tolerance: 0.01}"), 1);
    assertThat(cmp.resolve("selection.csv")).exists();
    assertThat(Files.readAllLines(cmp.resolve("selection.csv"))).hasSize(5)
        .filteredOn(l -> l.endsWith(",true")).hasSize(2);
    assertThat(Files.readAllLines(cmp.resolve("runs.jsonl"))).hasSize(6)
        .filteredOn(l -> l.contains("\"phase\":\"final\"")).hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("\"validation_size\":0"));
    for (Path d : List.of(size, resc, cmp)) {
      List<Path> files = Report.write(d);
      String md = Files.readString(files.get(0));
      String html = Files.readString(files.get(1));
      assertThat(md).contains("a claim").contains("Provenance").contains("| run |").contains(".png");
      assertThat(html).contains("data:image/png;base64,").contains("<table>").doesNotContain("src=\"figures/");
      try (var s = Files.list(d.resolve("figures"))) {
        List<Path> figs = s.toList();
        assertThat(figs).anyMatch(p -> p.toString().endsWith(".png")).anyMatch(p -> p.toString().endsWith(".svg"));
        for (Path p : figs) {
          assertThat(Files.size(p)).isGreaterThan(1000);
        }
      }
    }
    assertThat(Files.readString(cmp.resolve("report.md"))).contains("Step-size selection").contains("chosen lr")
        .contains("| claim | mnist-sample |")
        .contains("| Path-SGD's final training loss below SGD's, balanced init, no dropout | ");
    List<List<String>> claims = Report.claimTable(ResultSet.read(cmp));
    assertThat(claims.get(0)).containsExactly("claim", "mnist-sample");
    assertThat(claims).extracting(r -> r.get(0)).contains(
        "Path-SGD's final training loss below SGD's, balanced init, no dropout",
        "Path-SGD's final training loss below AdaGrad's, balanced init, no dropout");
    assertThat(claims).filteredOn(r -> r.get(0).startsWith("Path-SGD's final training loss below AdaGrad's"))
        .singleElement().satisfies(r -> assertThat(r.get(1)).isEqualTo("cannot tell: no finished runs of AdaGrad"));
    assertThat(claims).filteredOn(r -> r.get(0).equals("Path-SGD's test error below SGD's, balanced init, no dropout"))
        .singleElement().satisfies(r -> assertThat(r.get(1)).containsPattern("^(holds|does not hold|cannot tell): test error Path-SGD"));
    // figures at their own size (never shrunk), the verdicts once (a table, no bullet list), step sizes as numbers
    assertThat(Files.readString(cmp.resolve("report.html"))).contains("figure img{display:block;max-width:none}")
        .doesNotContain("img{width:100%").doesNotContain("<li>mnist-sample — ").containsPattern("<td>0\\.1</td>");
    assertThat(Files.readString(cmp.resolve("report.md"))).doesNotContain("- mnist-sample — ");
    assertThat(Files.readString(resc.resolve("report.md"))).contains("Path-SGD balanced and unbalanced coincide");
  }
}
