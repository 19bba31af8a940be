package io.github.pathsgd.bench;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Dropout;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.util.Rng;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: one full training step (forward, softmax cross-entropy, backward, update) at batch 100.
 *
 * <pre>
 * mvn -q -DskipTests package -pl bench -am
 * java -jar bench/target/benchmarks.jar TrainStep -p arch=784-4000-4000-10 -p optimizer=sgd,path-sgd
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainStepBenchmark {
  @Param({"784-4000-4000-10"})
  public String arch;

  @Param({"sgd", "path-sgd", "sgd-momentum", "path-sgd-momentum", "adagrad"})
  public String optimizer;

  @Param({"100"})
  public int batch;

  @Param({"0"})
  public int threads;

  private int[] labels;
  private TrainStep step;

  @Setup
  public void setup() {
    Blas.setThreads(threads);
    int[] w = Arrays.stream(arch.split("-")).mapToInt(Integer::parseInt).toArray();
    DenseChain lay = new DenseChain(w);
    LayerNet net = Init.balanced(lay, new Rng(1));
    Optimizer opt = switch (optimizer) {
      case "sgd" -> Optimizers.sgd(1e-4);
      case "sgd-momentum" -> Optimizers.sgd(1e-4, 0.9, false);
      case "path-sgd" -> Optimizers.pathSgd(1e-4, 2);
      case "path-sgd-momentum" -> Optimizers.pathSgd(1e-4, 2, 0.9, false);
      case "adagrad" -> Optimizers.adagrad(1e-4);
      default -> throw new IllegalArgumentException("unknown optimizer " + optimizer);
    };
    step = new TrainStep(net, opt, batch);
    Rng r = new Rng(2);
    for (int i = 0; i < batch * w[0]; i++) {
      step.workspace().input().set(i, r.nextFloat());
    }
    labels = new int[batch];
    for (int i = 0; i < batch; i++) {
      labels[i] = r.nextInt(w[w.length - 1]);
    }
  }

  @Benchmark
  public double step() {
    return step.run(batch, labels, Dropout.NONE, null).loss();
  }
}
