package io.github.pathsgd.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report as a reader sees it: written from a small real sweep (compare, 2 seeds, step-size selection), opened
 * in headless Chromium, and measured in the page: every figure loaded, and no text in the figures, tables or captions
 * rendered below 10 px. Skipped (with the reason) where no Chromium binary is on the PATH; {@code .ci/run} installs
 * Debian's {@code chromium}.
 */
class ReportBrowserTest {
  /**
   * Runs in the page after load and writes its measurements into the DOM (read back with --dump-dom). A figure's
   * smallest text is its smallest font (data-min-font-px, CSS px at 1:1) times the scale it is drawn at: the rendered
   * width over the PNG's width in CSS px (naturalWidth / data-px-ratio). A report without these attributes counts as
   * 10 px text at one PNG pixel per CSS pixel (the old reports' legend font).
   */
  static final String PROBE = """
      <script>
      window.addEventListener('load', function () {
        var imgs = document.querySelectorAll('figure img');
        var loaded = 0, minFig = 1e9;
        imgs.forEach(function (im) {
          if (im.complete && im.naturalWidth > 0) { loaded++; }
          var ratio = parseFloat(im.getAttribute('data-px-ratio') || '1');
          var font = parseFloat(im.getAttribute('data-min-font-px') || '10');
          var scale = im.getBoundingClientRect().width / (im.naturalWidth / ratio);
          minFig = Math.min(minFig, font * scale);
        });
        var minText = 1e9, where = '';
        document.querySelectorAll('td, th, p, figcaption, li, h1, h2').forEach(function (e) {
          var px = parseFloat(getComputedStyle(e).fontSize);
          if (e.textContent.trim().length > 0 && px < minText) { minText = px; where = e.tagName; }
        });
        var out = document.createElement('pre');
        out.id = 'probe';
        out.textContent = 'figures=' + imgs.length + ' loaded=' + loaded + ' minFigureTextPx=' + minFig.toFixed(2)
            + ' minTextPx=' + minText.toFixed(2) + ' minTextIn=' + where;
        document.body.appendChild(out);
      });
      </script>
      """;

  static Path chromium() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : List.of("chromium", "chromium-browser")) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /** The page's measurements (key=value), after Chromium has loaded {@code html} in a 1600 px wide window. */
  static Map<String, String> probe(Path chromium, Path html, Path tmp) throws Exception {
    Path page = tmp.resolve("probe.html");
    Files.writeString(page, Files.readString(html).replace("</body>", PROBE + "</body>"));
    List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + tmp.resolve("profile"), "--window-size=1600,1200", "--virtual-time-budget=10000",
        "--dump-dom", page.toUri().toString()));
    Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve("chromium.err").toFile()).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("chromium finished").isTrue();
    String dom = new String(out, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("<pre id=\"probe\">([^<]*)</pre>").matcher(dom);
    assertThat(m.find()).as("the probe's output in the DOM; chromium said: %s",
        Files.readString(tmp.resolve("chromium.err"))).isTrue();
    Map<String, String> kv = new TreeMap<>();
    for (String part : m.group(1).trim().split(" ")) {
      String[] x = part.split("=", 2);
      kv.put(x[0], x[1]);
    }
    return kv;
  }

  @Test
  void everyFigureLoadsAndNoTextIsRenderedBelowTenPixels(@TempDir Path tmp) throws Exception {
    Path chromium = chromium();
    assumeTrue(chromium != null, "no chromium or chromium-browser on the PATH: the headless report check is skipped "
        + "(apt-get install chromium, as .ci/run does)");
    Path cmp = ReportTest.sweep(tmp.resolve("cmp"), ReportTest.preset("compare",
        "{optimizer: [path-sgd, sgd], init: [balanced, unbalanced]}", "step_size: {alphas: [1, 2], tolerance: 0.01}"),
        2);
    Path resc = ReportTest.sweep(tmp.resolve("resc"), ReportTest.preset("rescaling",
        "{optimizer: [sgd, path-sgd], init: [balanced, unbalanced]}", ""), 2);
    for (Path d : List.of(cmp, resc)) {
      Path html = Report.write(d).get(1);
      long figures;
      try (var s = Files.list(d.resolve("figures"))) {
        figures = s.filter(x -> x.toString().endsWith(".png")).count();
      }
      assertThat(figures).isPositive();
      Map<String, String> m = probe(chromium, html, Files.createDirectories(tmp.resolve("probe-" + d.getFileName())));
      assertThat(m.get("figures")).as("figures in %s", html).isEqualTo(String.valueOf(figures));
      assertThat(m.get("loaded")).as("figures loaded in %s", html).isEqualTo(String.valueOf(figures));
      assertThat(Double.parseDouble(m.get("minFigureTextPx"))).as("smallest figure text (px) in %s", html)
          .isGreaterThanOrEqualTo(10.0);
      assertThat(Double.parseDouble(m.get("minTextPx"))).as("smallest table/caption text (px) in %s: %s", html, m)
          .isGreaterThanOrEqualTo(10.0);
    }
  }
}
