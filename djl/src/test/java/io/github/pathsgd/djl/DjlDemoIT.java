package io.github.pathsgd.djl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's DJL program (examples/djl-demo, a project that knows pathsgd only by its Maven coordinates) is compiled
 * and run against a local repository that {@code mvn install} fills in this same build ({@code mvn install
 * -Dmaven.repo.local=DIR -Dpathsgd.libraryTest.repo=DIR}), after this module's jar is packaged (integration-test
 * phase): the jar, not yet installed at that point, is installed into DIR first, with this module's pom. Without the
 * property (or without {@code mvn} on the PATH) it is skipped, saying so: it never reads or writes the user's ~/.m2.
 */
class DjlDemoIT {
  @Test
  void theReadmesDjlProgramCompilesAndTrainsAgainstTheInstalledArtifacts(@TempDir Path tmp) throws Exception {
    String repo = System.getProperty("pathsgd.libraryTest.repo", "");
    String version = System.getProperty("pathsgd.version", "0.1.0");
    Assumptions.assumeTrue(!repo.isBlank(), "djl demo test skipped: run 'mvn install -Dmaven.repo.local=DIR "
        + "-Dpathsgd.libraryTest.repo=DIR' to compile and run examples/djl-demo against the installed artifacts");
    Assumptions.assumeTrue(onPath("mvn"), "djl demo test skipped: mvn is not on the PATH");
    Path jar = Path.of(System.getProperty("djl.jar", "target/pathsgd-djl-" + version + ".jar"));
    assertThat(jar).as("packaged before the integration tests").exists();
    Path data = Path.of(repo, "io/github/pathsgd/pathsgd-data", version, "pathsgd-data-" + version + ".jar");
    assertThat(data).as("installed before this module").exists();
    run(Path.of("."), List.of("mvn", "-B", "-ntp", "-q", "-Dmaven.repo.local=" + repo,
        "org.apache.maven.plugins:maven-install-plugin:3.1.4:install-file", "-Dfile=" + jar, "-DpomFile=pom.xml"),
        Map.of());
    Path demo = tmp.resolve("djl-demo");
    Path src = Path.of("..", "examples", "djl-demo").toAbsolutePath().normalize();
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.filter(p -> !src.relativize(p).startsWith("target")).toList()) {
        Path to = demo.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    String mvn = run(demo, List.of("mvn", "-B", "-ntp", "-q", "-Dmaven.repo.local=" + repo, "-Dpathsgd.version="
        + version, "compile", "dependency:build-classpath", "-Dmdep.outputFile=target/classpath.txt"), Map.of());
    String cp = Files.readString(demo.resolve("target/classpath.txt"), StandardCharsets.UTF_8).trim();
    assertThat(cp).as(mvn).contains(Path.of(repo, "io/github/pathsgd/pathsgd-djl", version, "pathsgd-djl-" + version
        + ".jar").toString());
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cache = tmp.resolve("djl-cache").toString();
    String out = run(demo, List.of(javaBin, "--add-modules", "jdk.incubator.vector", "-Dai.djl.offline=true", "-cp",
        demo.resolve("target/classes") + java.io.File.pathSeparator + cp, "demo.DjlDemo"),
        Map.of("DJL_CACHE_DIR", cache, "ENGINE_CACHE_DIR", cache));
    // e.g. "path-sgd in djl: test accuracy 0.910 after 2 epochs"; the program itself fails below 0.85
    assertThat(out).containsPattern("path-sgd in djl: test accuracy 0\\.(8[5-9]|9)\\d* after 2 epochs")
        .contains("epoch 2: path norm phi_2");
  }

  static boolean onPath(String exe) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(d, exe))) {
        return true;
      }
    }
    return false;
  }

  static String run(Path dir, List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
    Path log = Files.createTempFile("djl-demo", ".log");
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    boolean done = p.waitFor(300, TimeUnit.SECONDS);
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    if (!done) {
      p.destroyForcibly();
    }
    assertThat(done).as("%s finished in 300 s: %s", cmd.get(0), out).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", cmd), out).isZero();
    return out;
  }
}
