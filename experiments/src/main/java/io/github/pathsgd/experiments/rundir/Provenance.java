package io.github.pathsgd.experiments.rundir;

import io.github.pathsgd.core.tensor.Blas;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Where and with what a result was produced: version, git commit, JVM, OS, CPU, BLAS and threads, and the OpenBLAS
 * kernel ({@link BlasKernel}: {@code blas_core} in use, {@code blas_core_detected} the one this CPU gets without
 * {@code OPENBLAS_CORETYPE}, {@code openblas_coretype_env} and {@code openblas_l2_size_env}, null when unset).
 */
public final class Provenance {
  private Provenance() {}

  /** The pathsgd version (from the build), or "dev". */
  public static String version() {
    try (InputStream in = Provenance.class.getResourceAsStream("/io/github/pathsgd/experiments/version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.startsWith("${")) {
          return v;
        }
      }
    } catch (IOException ignored) {
      // fall through
    }
    return "dev";
  }

  /** The git commit of the working directory's repository, or "unknown". */
  public static String gitCommit() {
    String env = System.getenv("PATHSGD_GIT_COMMIT");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    try {
      Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
      if (!p.waitFor(2, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "unknown";
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0 || !out.matches("[0-9a-f]{40}")) {
        return "unknown";
      }
      Process d = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no").start();
      boolean dirty = d.waitFor(2, TimeUnit.SECONDS) && d.getInputStream().readAllBytes().length > 0;
      return dirty ? out + "-dirty" : out;
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  /** The CPU model name from /proc/cpuinfo, or the os.arch. */
  public static String cpu() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }

  /**
   * The machine: everything but the times. When {@code OPENBLAS_CORETYPE} is set, the first call in a JVM starts a
   * child JVM for {@code blas_core_detected} (see {@link BlasKernel}); later calls reuse its answer.
   */
  public static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pathsgd_version", version());
    m.put("git_commit", gitCommit());
    m.put("java_version", System.getProperty("java.version"));
    m.put("java_vm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch"));
    m.put("cpu", cpu());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("blas", Blas.describe());
    m.put("blas_threads", Blas.threads());
    m.putAll(BlasKernel.get().fields());
    String host = System.getenv("HOSTNAME");
    m.put("host", host == null ? "unknown" : host);
    return m;
  }
}
