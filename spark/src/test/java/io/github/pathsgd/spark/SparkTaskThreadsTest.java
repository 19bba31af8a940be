package io.github.pathsgd.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.pathsgd.experiments.sweep.SweepSpec;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path-SGD's κ work in a Spark task runs on at most {@code spark.task.cpus} threads: the task trains inside a fork-join
 * pool of that many threads ({@link TaskThreads}), and core's κ pass forks its chunks into that pool instead of the
 * JVM-wide common pool. One run with a 784x1400 layer (1.1 M weights, above the size where the κ pass goes parallel)
 * and 2 BLAS threads per run, trained by a real Spark task (local mode); the task's pool notes the threads that run
 * what is forked into it: with {@code spark.task.cpus=2} the κ pass's chunk workers are forked into it (with core's
 * κ pass forking into the common pool, none would be) and run on at most 2 threads with the training thread, and with
 * {@code spark.task.cpus=1} nothing is forked (the training thread takes every chunk itself).
 */
class SparkTaskThreadsTest {
  static final String WIDE = """
      name: wide
      description: one Path-SGD run with a layer large enough for the parallel κ pass
      base: {dataset: mnist-sample, hidden: [1400], per_class_train: 4, validation_size: 0, epochs: 1,
             batch_size: 20, seed: 5, optimizer: path-sgd, lr: 0.01}
      """;

  /** The threads of the pools of the tasks of one sweep on local[2] with {@code spark.task.cpus = cpus}. */
  private static List<TaskThreads.Use> sweep(int cpus, Path out) {
    int before = TaskThreads.seen().size();
    SparkConf c = new SparkConf().setAppName("pathsgd-threads").setMaster("local[2]")
        .set("spark.task.cpus", String.valueOf(cpus)).set("spark.ui.enabled", "false")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
    try (JavaSparkContext sc = new JavaSparkContext(c)) {
      SparkSweep.Outcome o = new SparkSweep(SweepSpec.parse(WIDE, "test"), "smoke", 1,
          new SparkSweep.Options(out, 2, null, out.resolveSibling(out.getFileName() + "-scratch"), null)).run(sc);
      assertThat(o.trained()).isEqualTo(1);
    }
    List<TaskThreads.Use> all = TaskThreads.seen();
    return all.subList(Math.min(before, all.size()), all.size());
  }

  @Test
  void kappaRunsOnAtMostTheTasksCpus(@TempDir Path tmp) {
    // two threads to share the κ chunks need two cores (CI has 2)
    assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs 2 cores");
    List<TaskThreads.Use> two = sweep(2, tmp.resolve("two"));
    assertThat(two).hasSize(1);
    TaskThreads.Use u = two.get(0);
    assertThat(u.cpus()).isEqualTo(2);
    // the training ran on the pool's thread, and the κ pass forked its chunk workers into the pool (not the common
    // pool: then no fork would be seen here), to at most cpus − 1 other threads of it
    assertThat(u.body()).startsWith("pathsgd-task-").contains("-kappa-");
    assertThat(u.forks()).isPositive();
    assertThat(u.forkedTo()).isNotEmpty().allSatisfy(n -> assertThat(n).startsWith(u.body().replaceAll("\\d+$", "")));
    java.util.Set<String> kappaThreads = new java.util.HashSet<>(u.forkedTo());
    kappaThreads.add(u.body());
    assertThat(kappaThreads).hasSizeLessThanOrEqualTo(2);

    List<TaskThreads.Use> one = sweep(1, tmp.resolve("one"));
    assertThat(one).hasSize(1);
    assertThat(one.get(0).cpus()).isEqualTo(1);
    // one thread: the κ pass takes every chunk itself, nothing is forked anywhere
    assertThat(one.get(0).forks()).isZero();
    assertThat(one.get(0).forkedTo()).isEmpty();
  }
}
