package io.github.pathsgd.experiments.rundir;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.experiments.config.Configs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The OpenBLAS kernel in the provenance ({@link BlasKernel}). This JVM's environment is never changed: the forced case
 * runs in a child JVM started with {@code OPENBLAS_CORETYPE} in its own environment.
 */
class ProvenanceKernelTest {
  /** Prints the kernel fields of {@link Provenance#machine()} and the kernel line, as one JSON object. */
  static final class Probe {
    public static void main(String[] args) throws Exception {
      Map<String, Object> m = new java.util.LinkedHashMap<>(Provenance.machine());
      m.put("line", BlasKernel.get().describe());
      System.out.println("provenance=" + Configs.json().writer()
          .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
    }
  }

  @Test
  void provenanceNamesTheKernelInUse() {
    Map<String, Object> m = Provenance.machine();
    assertThat((String) m.get("blas_core")).isNotBlank().isNotEqualTo("unknown").isEqualTo(Blas.coreName());
    assertThat((String) m.get("blas")).contains("kernel " + m.get("blas_core"));
    assertThat(m).containsKeys("blas_core_detected", "openblas_coretype_env", "openblas_l2_size_env");
    assertThat(m.get("openblas_coretype_env")).isEqualTo(blankToNull(System.getenv("OPENBLAS_CORETYPE")));
    assertThat(m.get("openblas_l2_size_env")).isEqualTo(blankToNull(System.getenv("OPENBLAS_L2_SIZE")));
    if (blankToNull(System.getenv("OPENBLAS_CORETYPE")) == null) {
      assertThat(m.get("blas_core_detected")).isEqualTo(m.get("blas_core"));
      assertThat(BlasKernel.get().forced()).isFalse();
      assertThat(BlasKernel.get().describe()).startsWith("OpenBLAS kernel " + m.get("blas_core") + " (")
          .contains("OPENBLAS_CORETYPE unset");
    }
    assertThat(BlasKernel.get()).isSameAs(BlasKernel.get()); // cached per JVM
  }

  @Test
  void describesEachCase() {
    assertThat(new BlasKernel.Info("Zen", "Zen", null, null).describe())
        .isEqualTo("OpenBLAS kernel Zen (the one OpenBLAS picked for this CPU; OPENBLAS_CORETYPE unset)");
    BlasKernel.Info forced = new BlasKernel.Info("Haswell", "SkylakeX", "haswell", "1048576");
    assertThat(forced.forced()).isTrue();
    assertThat(forced.describe()).isEqualTo("OpenBLAS kernel Haswell (forced by OPENBLAS_CORETYPE=haswell; this CPU"
        + " would get SkylakeX; OPENBLAS_L2_SIZE=1048576)");
    BlasKernel.Info same = new BlasKernel.Info("SkylakeX", "SkylakeX", "skylakex", null);
    assertThat(same.forced()).isFalse();
    assertThat(same.describe()).contains("OPENBLAS_CORETYPE=skylakex, the kernel this CPU gets anyway");
    assertThat(forced.fields()).containsExactly(Map.entry("blas_core", "Haswell"),
        Map.entry("blas_core_detected", "SkylakeX"), Map.entry("openblas_coretype_env", "haswell"),
        Map.entry("openblas_l2_size_env", "1048576"));
  }

  @Test
  void aForcedKernelIsReportedWithTheDetectedOne() throws Exception {
    // Prescott (SSE3) runs on every x86-64 CPU, and no current CPU is detected as Prescott
    JsonNode p = probe("Prescott");
    assertThat(p.get("blas_core").asText()).isEqualTo("Prescott");
    assertThat(p.get("openblas_coretype_env").asText()).isEqualTo("Prescott");
    // the child's child runs without OPENBLAS_CORETYPE: it gets the kernel this CPU gets
    String detected = BlasKernel.get().detected();
    assertThat(p.get("blas_core_detected").asText()).isEqualTo(detected);
    if (!detected.equals("Prescott")) {
      assertThat(p.get("line").asText()).isEqualTo("OpenBLAS kernel Prescott (forced by OPENBLAS_CORETYPE=Prescott;"
          + " this CPU would get " + detected + ")");
    }
    assertThat(p.get("blas").asText()).contains("kernel Prescott");
  }

  @Test
  void theDetectingChildFindsPathsgdWhereTheClassPathDoesNotListIt() {
    // a Spark executor loads pathsgd from the application jar through its own class loader: java.class.path does not
    // list it, and the child started on java.class.path alone answered "unknown" for every run trained there
    String detected = BlasKernel.detectedInChild("");
    assertThat(detected).isNotEqualTo("unknown").isEqualTo(BlasKernel.detectedInChild());
  }

  /** Runs {@link Probe} in a child JVM with {@code OPENBLAS_CORETYPE=coretype} and no OPENBLAS_L2_SIZE. */
  static JsonNode probe(String coretype) throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), Probe.class.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("OPENBLAS_CORETYPE", coretype);
    pb.environment().remove("OPENBLAS_L2_SIZE");
    pb.environment().put("PATHSGD_GIT_COMMIT", "test"); // no git process in the child
    Process proc = pb.start();
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(proc.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(proc.exitValue()).as(out).isZero();
    String line = out.lines().filter(l -> l.startsWith("provenance=")).findFirst().orElseThrow(
        () -> new AssertionError("no provenance line in: " + out));
    return Configs.json().readTree(line.substring("provenance=".length()));
  }

  private static String blankToNull(String v) {
    return v == null || v.isBlank() ? null : v.strip();
  }
}
