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
 * Where and with what a result was produced: version, git commit of the build ({@code git_commit}, {@link
 * #buildCommit}) and of the checkout the process runs in ({@code checkout_commit}, {@link #checkoutCommit}), JVM, OS,
 * CPU, BLAS and threads, and the OpenBLAS kernel ({@link BlasKernel}: {@code blas_core} in use, {@code blas_core_detected} the one this CPU gets without
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

  /** The resource the build writes the commit it was made from into (experiments/pom.xml, maven-antrun-plugin). */
  static final String BUILD_COMMIT_RESOURCE = "/io/github/pathsgd/experiments/build-commit.properties";

  /**
   * The git commit this build of pathsgd was made from, recorded in the jar when it was built: the checkout's HEAD at
   * build time, with {@code -dirty} when tracked files differed from it, or "unknown" when the build did not run in a
   * git checkout (or the resource is missing). A run's {@code provenance.git_commit}: the code that trained it,
   * whatever checkout the run starts in.
   */
  public static String buildCommit() {
    try (InputStream in = Provenance.class.getResourceAsStream(BUILD_COMMIT_RESOURCE)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("commit", "").trim();
        if (v.matches("[0-9a-f]{40}(-dirty)?")) {
          return v;
        }
      }
    } catch (IOException ignored) {
      // fall through
    }
    return "unknown";
  }

  /**
   * The HEAD of the git checkout the process runs in (its working directory), with {@code -dirty} when tracked files
   * differ from it, or "unknown" (not in a checkout, or no git); {@code PATHSGD_GIT_COMMIT}, when set, is taken
   * instead. A run's {@code provenance.checkout_commit}; it need not be the commit of the jar ({@link #buildCommit}),
   * e.g. when a script copies one jar and runs it from a checkout that has moved on.
   */
  public static String checkoutCommit() {
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
    m.put("git_commit", buildCommit());
    m.put("checkout_commit", checkoutCommit());
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
