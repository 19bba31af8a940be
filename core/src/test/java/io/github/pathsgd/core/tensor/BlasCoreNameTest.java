package io.github.pathsgd.core.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_full;
import org.junit.jupiter.api.Test;

/**
 * {@link Blas#coreName()} against OpenBLAS's own {@code openblas_get_corename()}, which only {@code org.bytedeco}'s
 * {@code openblas_full} binding exposes. That binding loads a second copy of OpenBLAS, so the comparison runs in a
 * child JVM ({@link Probe}), once with this JVM's environment and once with {@code OPENBLAS_CORETYPE} set in the
 * child's environment only (this JVM's environment is never changed).
 */
class BlasCoreNameTest {
  /** Prints {@code Blas.coreName()} and then {@code openblas_get_corename()} of {@code openblas_full}, one a line. */
  static final class Probe {
    public static void main(String[] args) {
      System.out.println("ours=" + Blas.coreName());
      Loader.load(openblas_full.class);
      System.out.println("openblas_get_corename=" + openblas_full.openblas_get_corename().getString());
    }
  }

  /** Runs {@link Probe} in a child JVM with this JVM's environment plus {@code env}; returns its two names. */
  static List<String> probe(Map<String, String> env) throws IOException, InterruptedException {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), Probe.class.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    List<String> values = new ArrayList<>();
    for (String line : out.lines().toList()) {
      if (line.startsWith("ours=") || line.startsWith("openblas_get_corename=")) {
        values.add(line.substring(line.indexOf('=') + 1));
      }
    }
    assertThat(values).as(out).hasSize(2);
    return values;
  }

  @Test
  void coreNameIsAKernelName() {
    // the bundled OpenBLAS is a dynamic-arch build for linux-x86_64, where every CPU gets a named kernel
    assertThat(Blas.coreName()).isNotBlank().isNotEqualTo("unknown").matches("[A-Za-z0-9_]+");
    assertThat(Blas.coreName()).isSameAs(Blas.coreName());
    assertThat(Blas.describe()).contains("kernel " + Blas.coreName());
  }

  @Test
  void agreesWithOpenblasGetCorenameInAChildJvm() throws Exception {
    List<String> inherited = probe(Map.of());
    assertThat(inherited.get(0)).isEqualTo(inherited.get(1)).isEqualTo(Blas.coreName());
    // Prescott (SSE3) runs on every x86-64 CPU; OPENBLAS_CORETYPE is matched case-insensitively
    assertThat(probe(Map.of("OPENBLAS_CORETYPE", "prescott"))).containsExactly("Prescott", "Prescott");
  }
}
