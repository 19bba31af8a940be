package io.github.pathsgd.bench;

import io.github.pathsgd.core.tensor.Blas;
import io.github.pathsgd.core.tensor.Tensor;
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
 * JMH: the GEMM shapes of a training step at batch 100 and the square peak probe. GFLOP/s = 2·m·n·k / time.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar Sgemm
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SgemmBenchmark {
  /** name:transA:transB:m:n:k. */
  @Param({"square2048:N:N:2048:2048:2048", "fwd1:N:T:100:4000:784", "fwd2:N:T:100:4000:4000",
      "gradW2:T:N:4000:4000:100", "gradX2:N:N:100:4000:4000"})
  public String shape;

  @Param({"0"})
  public int threads;

  private boolean ta;
  private boolean tb;
  private int m;
  private int n;
  private int k;
  private Tensor a;
  private Tensor b;
  private Tensor c;

  @Setup
  public void setup() {
    Blas.setThreads(threads);
    String[] p = shape.split(":");
    ta = p[1].equals("T");
    tb = p[2].equals("T");
    m = Integer.parseInt(p[3]);
    n = Integer.parseInt(p[4]);
    k = Integer.parseInt(p[5]);
    a = MachineTimings.random(m * k, 1);
    b = MachineTimings.random(k * n, 2);
    c = new Tensor(m * n);
  }

  @Benchmark
  public Tensor gemm() {
    Blas.sgemm(ta, tb, m, n, k, 1f, a, 0, b, 0, 0f, c, 0);
    return c;
  }
}
