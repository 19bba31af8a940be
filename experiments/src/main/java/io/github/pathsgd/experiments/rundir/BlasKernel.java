package io.github.pathsgd.experiments.rundir;

import io.github.pathsgd.core.tensor.Blas;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Which OpenBLAS kernel this process uses, and whether the environment chose it: {@code OPENBLAS_CORETYPE} forces a
 * kernel (OpenBLAS reads it once, when it loads), and {@code OPENBLAS_L2_SIZE} overrides the L2 cache size its
 * blocking assumes (it does not change the kernel). When {@code OPENBLAS_CORETYPE} is set, the kernel the CPU itself
 * would get is asked of a child JVM started without the two variables (about half a second, once per JVM, cached);
 * when it is unset no child is started, the kernel in use being the detected one.
 */
public final class BlasKernel {
  /** The line {@link #main} prints before the kernel name. */
  static final String PREFIX = "blas_core=";

  private static volatile Info cached;

  private BlasKernel() {}

  /**
   * The kernel facts.
   *
   * @param inUse the kernel in use here ({@link Blas#coreName()})
   * @param detected the kernel OpenBLAS picks for this CPU without {@code OPENBLAS_CORETYPE}; "unknown" when the
   *     child JVM failed
   * @param coretypeEnv {@code OPENBLAS_CORETYPE}, or null when unset
   * @param l2SizeEnv {@code OPENBLAS_L2_SIZE}, or null when unset
   */
  public record Info(String inUse, String detected, String coretypeEnv, String l2SizeEnv) {
    /** Whether {@code OPENBLAS_CORETYPE} makes this process use another kernel than the CPU would get. */
    public boolean forced() {
      return coretypeEnv != null && !inUse.equalsIgnoreCase(detected);
    }

    /**
     * One line for people, e.g. "OpenBLAS kernel Haswell (forced by OPENBLAS_CORETYPE=Haswell; this CPU would get
     * SkylakeX)".
     */
    public String describe() {
      StringBuilder b = new StringBuilder("OpenBLAS kernel ").append(inUse).append(" (");
      if (coretypeEnv == null) {
        b.append("the one OpenBLAS picked for this CPU; OPENBLAS_CORETYPE unset");
      } else if (forced()) {
        b.append("forced by OPENBLAS_CORETYPE=").append(coretypeEnv).append("; this CPU would get ").append(detected);
      } else {
        b.append("OPENBLAS_CORETYPE=").append(coretypeEnv).append(", the kernel this CPU gets anyway");
      }
      b.append(l2SizeEnv == null ? "" : "; OPENBLAS_L2_SIZE=" + l2SizeEnv).append(')');
      return b.toString();
    }

    /** The provenance fields: blas_core, blas_core_detected, openblas_coretype_env, openblas_l2_size_env. */
    public Map<String, Object> fields() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("blas_core", inUse);
      m.put("blas_core_detected", detected);
      m.put("openblas_coretype_env", coretypeEnv);
      m.put("openblas_l2_size_env", l2SizeEnv);
      return m;
    }
  }

  /** The kernel facts of this JVM, computed once. */
  public static Info get() {
    Info i = cached;
    if (i == null) {
      synchronized (BlasKernel.class) {
        i = cached;
        if (i == null) {
          String coretype = env("OPENBLAS_CORETYPE");
          String inUse = Blas.coreName();
          i = new Info(inUse, coretype == null ? inUse : detectedInChild(), coretype, env("OPENBLAS_L2_SIZE"));
          cached = i;
        }
      }
    }
    return i;
  }

  private static String env(String name) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? null : v.strip();
  }

  /** Asks a child JVM, on this JVM's class path, without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, for its kernel. */
  static String detectedInChild() {
    return detectedInChild(System.getProperty("java.class.path", ""));
  }

  /**
   * As {@link #detectedInChild()}, on class path {@code base} followed by the jars or folders this class, the BLAS
   * wrapper and JavaCPP's OpenBLAS bindings were loaded from: on a Spark executor pathsgd's classes come from the
   * application jar through Spark's own class loader, which {@code java.class.path} does not list.
   */
  static String detectedInChild(String base) {
    java.util.LinkedHashSet<String> cp = new java.util.LinkedHashSet<>();
    for (String e : base.split(java.io.File.pathSeparator)) {
      if (!e.isEmpty()) {
        cp.add(e);
      }
    }
    for (String c : List.of(BlasKernel.class.getName(), Blas.class.getName(), "org.bytedeco.javacpp.Loader",
        "org.bytedeco.openblas.global.openblas")) {
      try {
        var src = Class.forName(c, false, BlasKernel.class.getClassLoader()).getProtectionDomain().getCodeSource();
        if (src != null && src.getLocation() != null && "file".equals(src.getLocation().getProtocol())) {
          cp.add(Path.of(src.getLocation().toURI()).toString());
        }
      } catch (ReflectiveOperationException | java.net.URISyntaxException | RuntimeException | LinkageError e) {
        // not loadable here: the child goes without it
      }
    }
    try { // the native libraries: JavaCPP's platform jars hold resources only, no class
      String platform = org.bytedeco.javacpp.Loader.getPlatform();
      for (String res : List.of("org/bytedeco/openblas/" + platform + "/", "org/bytedeco/javacpp/" + platform + "/")) {
        java.net.URL u = BlasKernel.class.getClassLoader().getResource(res);
        if (u != null && "jar".equals(u.getProtocol()) && u.getPath().startsWith("file:")) {
          cp.add(Path.of(java.net.URI.create(u.getPath().substring(0, u.getPath().indexOf("!/")))).toString());
        } else if (u != null && "file".equals(u.getProtocol())) {
          Path dir = Path.of(u.toURI());
          for (int k = res.split("/").length; k > 0; k--) {
            dir = dir.getParent();
          }
          cp.add(dir.toString());
        }
      }
    } catch (java.net.URISyntaxException | RuntimeException | LinkageError e) {
      // the child finds them on its own, or answers unknown
    }
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
        "-XX:TieredStopAtLevel=1", "-cp", String.join(java.io.File.pathSeparator, cp), BlasKernel.class.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("OPENBLAS_CORETYPE");
    pb.environment().remove("OPENBLAS_L2_SIZE");
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      // the child writes a line or two, far less than a pipe holds: wait first, then read
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "unknown";
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        return "unknown";
      }
      return out.lines().filter(l -> l.startsWith(PREFIX)).map(l -> l.substring(PREFIX.length()).strip())
          .reduce((a, b) -> b).orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  /** Prints {@code blas_core=NAME}, the kernel OpenBLAS uses in this JVM; the child of {@link #detectedInChild}. */
  public static void main(String[] args) {
    System.out.println(PREFIX + Blas.coreName());
  }
}
