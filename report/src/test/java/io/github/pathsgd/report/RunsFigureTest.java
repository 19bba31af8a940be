package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** {@code pathsgd plot --runs}: train run folders plotted together in the chapter's layout. */
class RunsFigureTest {
  static Path run(Path dir, String id, String opt, String init, String status, double... loss) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), "{\"run_id\":\"" + id + "\",\"config\":{\"dataset\":\"toy\","
        + "\"optimizer\":\"" + opt + "\",\"init\":\"" + init + "\",\"lr\":0.1,\"dropout\":0.0},"
        + "\"provenance\":{\"pathsgd_version\":\"9.9\"}}");
    Files.writeString(dir.resolve("summary.json"), "{\"status\":\"" + status + "\"}");
    StringBuilder csv = new StringBuilder("run_id,epoch,split,metric,value\n");
    for (int e = 0; e < loss.length; e++) {
      csv.append(id).append(',').append(e).append(",train,loss,").append(loss[e]).append('\n');
      csv.append(id).append(',').append(e).append(",train,error,").append(loss[e] / 10).append('\n');
      csv.append(id).append(',').append(e).append(",test,error,").append(loss[e] / 8).append('\n');
    }
    Files.writeString(dir.resolve("metrics.csv"), csv);
    return dir;
  }

  @Test
  void colourPerOptimizerStylePerInitOneLegendAndDivergedRunsMarkedAtTheirLastFiniteValue(@TempDir Path tmp)
      throws Exception {
    Path a = run(tmp.resolve("a"), "aaaaaaaaaaaa", "path-sgd", "balanced", "completed", 2.3, 0.5, 0.1);
    Path b = run(tmp.resolve("b"), "bbbbbbbbbbbb", "sgd", "unbalanced", "diverged", 2.3, 4.0);
    ResultSet rs = ResultSet.ofRuns(List.of(a, b), tmp.resolve("out"));
    assertThat(rs.figure()).isEqualTo("runs");
    assertThat(rs.version()).isEqualTo("9.9");
    List<XYChart> panels = Figures.trainingPanels("", "toy", rs.finished(), r -> r.cfg("optimizer") + " "
        + r.cfg("init"));
    assertThat(panels).hasSize(3);
    assertThat(panels.get(0).getStyler().isLegendVisible()).isTrue();
    assertThat(panels.get(1).getStyler().isLegendVisible()).isFalse();
    assertThat(panels.get(2).getStyler().isLegendVisible()).isFalse();
    XYSeries ps = panels.get(0).getSeriesMap().get("path-sgd balanced");
    // the legend says how many seeds diverged
    XYSeries sg = panels.get(0).getSeriesMap().get("sgd unbalanced, 1 of 1 seed diverged (x)");
    assertThat(sg.isShowInLegend()).isTrue();
    assertThat(ps.getLineColor()).isNotEqualTo(sg.getLineColor());
    assertThat(ps.getLineStyle().getDashArray()).isNull();
    assertThat(sg.getLineStyle().getDashArray()).containsExactly(7f, 4f);
    // every panel is log10 of the value, labelled with plain numbers
    assertThat(ps.getYData()).containsExactly(Math.log10(2.3), Math.log10(0.5), Math.log10(0.1));
    assertThat(panels.get(2).getSeriesMap().get("path-sgd balanced").getYData())
        .containsExactly(Math.log10(2.3 / 8), Math.log10(0.5 / 8), Math.log10(0.1 / 8));
    assertThat(Figures.logTick(Math.log10(0.25))).isEqualTo("0.25");
    assertThat(Figures.logTick(0)).isEqualTo("1");
    assertThat(Figures.logTick(-4)).isEqualTo("0.0001");
    assertThat(Figures.logTick(Math.log10(4e8))).isEqualTo("4e+08");
    XYSeries mark = panels.get(0).getSeriesMap().get("sgd unbalanced diverged 1 (x)");
    assertThat(mark.getMarker()).isEqualTo(SeriesMarkers.CROSS);
    assertThat(mark.isShowInLegend()).isFalse();
    assertThat(mark.getXData()).containsExactly(1.0);
    assertThat(mark.getYData()).containsExactly(Math.log10(4.0));
    XYSeries mark2 = panels.get(2).getSeriesMap().get("sgd unbalanced diverged 1 (x)");
    assertThat(mark2.getYData()).containsExactly(Math.log10(0.5));
    List<Figures.Figure> figs = Figures.draw(rs);
    assertThat(figs).hasSize(1);
    assertThat(figs.get(0).png()).isEqualTo(tmp.resolve("out/figures/runs-toy.png"));
    assertThat(Files.size(figs.get(0).png())).isGreaterThan(5000);
    assertThat(figs.get(0).svgs()).hasSize(3);
  }

  @Test
  void aFolderWithoutRunFilesIsRefusedByName(@TempDir Path tmp) {
    assertThatThrownBy(() -> ResultSet.ofRuns(List.of(tmp), tmp)).hasMessageContaining(tmp.toString())
        .hasMessageContaining("config.json and metrics.csv");
  }
}
