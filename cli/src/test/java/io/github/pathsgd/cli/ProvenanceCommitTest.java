package io.github.pathsgd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.pathsgd.experiments.config.Configs;
import io.github.pathsgd.experiments.rundir.Provenance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's {@code provenance.git_commit} is the commit of the build that trains it (recorded in the jar), not the HEAD
 * of whatever checkout the run starts in; that HEAD is {@code provenance.checkout_commit}. The attack: one jar run from
 * a checkout that has moved on (scripts/run-medium.sh copies one jar) named the checkout's commit as the code's.
 */
class ProvenanceCommitTest {
  @Test
  void gitCommitIsTheBuildsAndCheckoutCommitTheWorkingDirectorysHead(@TempDir Path tmp) throws Exception {
    // another git checkout, with a commit of its own, as the run's working directory
    Path repo = Files.createDirectories(tmp.resolve("other-checkout"));
    Assumptions.assumeTrue(git(repo, "init", "-q") != null, "git is not available");
    Files.writeString(repo.resolve("notes.txt"), "not pathsgd\n");
    assertThat(git(repo, "add", "notes.txt")).isNotNull();
    assertThat(git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false",
        "commit", "-q", "-m", "other")).isNotNull();
    String head = git(repo, "rev-parse", "HEAD");
    assertThat(head).matches("[0-9a-f]{40}");

    // the commit this build was made from: HEAD of the source checkout (the test runs in its module folder)
    String build = Provenance.buildCommit();
    String sourceHead = git(Path.of("").toAbsolutePath(), "rev-parse", "HEAD");
    if (sourceHead != null && sourceHead.matches("[0-9a-f]{40}")) {
      assertThat(build).matches(sourceHead + "(-dirty)?");
    } else {
      assertThat(build).isEqualTo("unknown");
    }

    Path out = tmp.resolve("run");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "train", "--quiet", "--hidden", "8", "--epochs", "1", "--out", out.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true);
    pb.environment().remove("PATHSGD_GIT_COMMIT");
    Process p = pb.start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(log).isZero();

    JsonNode prov = Configs.json().readTree(out.resolve("config.json").toFile()).path("provenance");
    assertThat(prov.path("git_commit").asText()).isEqualTo(build).isNotEqualTo(head);
    assertThat(prov.path("checkout_commit").asText()).isEqualTo(head);
  }

  /** git's trimmed output in {@code dir}, or null when git is missing or fails. */
  static String git(Path dir, String... args) throws InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(false);
      pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return null;
      }
      return out;
    } catch (IOException e) {
      return null;
    }
  }
}
