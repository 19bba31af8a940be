package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.step.TrainStep;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The graph of ops ({@link Graph}) against references that do not use its executor: a network of layers run as a
 * graph (a residual block expanded into its branch, an {@link AddOp} and a {@link ReluOp}, backward accumulating)
 * trains bit for bit as the network itself, dense and convolutional, with SGD, momentum and Path-SGD, with dropout;
 * its gradient matches central differences of {@link ResidualTest}'s forward written out in double; its φ_p matches
 * the brute-force enumeration of every path; its tie groups are the connected components of the fixed edges, and a
 * rescaling of one group leaves the logits bit for bit (power of two) while a rescaling of one member alone does not.
 */
class GraphTest {
  static final float[] XS = inputs(6 * ResidualTest.IN, 5);

  static float[] inputs(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** The parameters after {@code steps} steps of {@code opt} on {@code net} (a fixed batch, seeded dropout). */
  static float[] train(Network net, Optimizer opt, Dropout dropout, int steps, float[] xs, int[] labels) {
    int B = labels.length;
    TrainStep step = new TrainStep(net, opt, B);
    Rng rng = new Rng(11);
    for (int s = 0; s < steps; s++) {
      step.workspace().input().copyFrom(xs, 0, 0, xs.length);
      step.run(B, labels, dropout, rng);
    }
    return net.params().toArray();
  }

  @Test
  void aResidualNetworkRunAsAGraphTrainsBitForBitAsTheNetwork() {
    int[] labels = {0, 1, 1, 0, 1, 0};
    Dropout drop = new Dropout(0.8f, 0.9f);
    for (Optimizer opt : List.of(Optimizers.sgd(0.1, 0.9, false), Optimizers.pathSgd(0.05, 2, 0.9, false),
        Optimizers.adagrad(0.05))) {
      for (Dropout d : List.of(Dropout.NONE, drop)) {
        LayerNet a = ResidualTest.net(3);
        Graph g = Graph.of(ResidualTest.net(3));
        assertThat(g.ops().stream().map(Op::kind)).containsExactly("dense", "dense", "dense", "add", "relu", "dense");
        float[] want = train(a, opt, d, 4, XS, labels);
        assertThat(want).isNotEqualTo(ResidualTest.net(3).params().toArray()); // the steps moved the parameters
        assertThat(train(g, opt, d, 4, XS, labels)).as("%s, %s", opt, d).containsExactly(want);
      }
    }
  }

  @Test
  void aConvolutionalResidualNetworkRunAsAGraphTrainsBitForBitAsTheNetwork() {
    LayerSpec spec = LayerSpec.parse("conv(3,3,pad=1),res(conv(3,3,pad=1),conv(3,3,pad=1)),avgpool(2),dense(5)");
    int B = 3;
    float[] xs = inputs(B * 2 * 4 * 4, 8);
    int[] labels = {2, 0, 1};
    for (Optimizer opt : List.of(Optimizers.sgd(0.05, 0.9, false), Optimizers.pathSgd(0.02, 2, 0.9, false))) {
      LayerNet a = spec.build(2, 4, 4, 3);
      Init.balanced(a, new Rng(4));
      LayerNet b = spec.build(2, 4, 4, 3);
      b.params().copyFrom(a.params().toArray(), 0, 0, a.params().size());
      Graph g = Graph.of(b);
      assertThat(g.ops().stream().map(Op::kind)).contains("add", "relu");
      float[] want = train(a, opt, new Dropout(0.75f, 1f), 3, xs, labels);
      assertThat(train(g, opt, new Dropout(0.75f, 1f), 3, xs, labels)).as("%s", opt).containsExactly(want);
    }
  }

  @Test
  void theGraphsGradientMatchesCentralDifferencesOfTheBlockWrittenOutInDouble() {
    Graph g = Graph.of(ResidualTest.net(3));
    int B = 4;
    float[] xs = inputs(B * ResidualTest.IN, 5);
    int[] labels = {0, 1, 1, 0};
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    Tensor grads = new Tensor(ResidualTest.SIZE);
    double lossF = g.lossAndGradient(ws, B, labels, 0, grads, Dropout.NONE, null).loss();
    double[] t = new double[ResidualTest.SIZE];
    for (int i = 0; i < t.length; i++) {
      t[i] = g.params().get(i);
    }
    assertThat(lossF).isCloseTo(ResidualTest.loss(t, xs, labels), within(1e-5));
    double eps = 1e-6;
    for (int i = 0; i < t.length; i++) {
      double t0 = t[i];
      t[i] = t0 + eps;
      double lp = ResidualTest.loss(t, xs, labels);
      t[i] = t0 - eps;
      double lm = ResidualTest.loss(t, xs, labels);
      t[i] = t0;
      double num = (lp - lm) / (2 * eps);
      assertThat((double) grads.get(i)).as("parameter %d", i).isCloseTo(num, within(1e-4 + 1e-3 * Math.abs(num)));
    }
  }

  @Test
  void theGraphsPhiIsTheBruteForceSumOverEveryPath() {
    for (long seed = 1; seed <= 3; seed++) {
      LayerNet n = ResidualTest.net(seed);
      Graph g = Graph.of(n);
      for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
        double brute = ResidualTest.bruteForcePhi(n, p);
        assertThat(PathNorms.phi(g, g.params(), p, true)).as("seed %d, p %s", seed, p)
            .isCloseTo(brute, within(1e-9 * brute));
      }
    }
  }

  @Test
  void theTieGroupsAreTheComponentsOfTheFixedEdges() {
    Graph g = Graph.of(ResidualTest.net(2));
    // nodes: 0 input, 1 dense h, 2 F's hidden g, 3 F's output, 4 h + F, 5 relu (the block's output), 6 logits
    assertThat(g.tieGroups()).containsExactly(0, 1, 2, 1, 1, 1, 6);
  }

  /** Scales unit i of every node in {@code nodes}: the rows that write it ×c, the columns that read it ×1/c. */
  static void rescale(Graph g, List<Integer> nodes, int i, float c) {
    FloatBufferOps w = new FloatBufferOps(g.params());
    for (int k = 0; k < g.ops().size(); k++) {
      Op op = g.ops().get(k);
      List<ParamSlice> s = op.params();
      if (nodes.contains(k + 1) && !s.isEmpty()) { // the op writes a member: its row i and bias i
        ParamSlice weight = s.get(0);
        for (int j = 0; j < weight.fanIn(); j++) {
          w.mul(weight.offset() + i * weight.fanIn() + j, c);
        }
        w.mul(s.get(1).offset() + i, c);
      }
      if (nodes.contains(op.inputs()[0]) && op instanceof LayerOp lo) { // a layer reads a member: its column i
        lo.layer().inputChannelRanges(i, g.width(op.inputs()[0]), (from, n) -> {
          for (int q = from; q < from + n; q++) {
            w.mul(q, 1 / c);
          }
        });
      }
    }
  }

  /** Multiplies entries of a parameter tensor. */
  record FloatBufferOps(Tensor t) {
    void mul(int i, float c) {
      t.set(i, t.get(i) * c);
    }
  }

  static float[] logits(Graph g, float[] xs, int B) {
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(xs, 0, 0, xs.length);
    g.evaluate(ws, B, new int[B], 0);
    return ws.logits().toArray(0, B * g.outputs());
  }

  @Test
  void rescalingATieGroupKeepsTheFunctionAndPhiAndOneMemberAloneDoesNot() {
    int B = 6;
    Graph g = Graph.of(ResidualTest.net(7));
    float[] before = logits(g, XS, B);
    Network.Workspace ws = g.workspace(B);
    ws.input().copyFrom(XS, 0, 0, XS.length);
    g.evaluate(ws, B, new int[B], 0);
    double phi = PathNorms.phi(g, g.params(), 2, true);
    int changed = 0;
    for (int i = 0; i < ResidualTest.H; i++) {
      Graph r = g.copy();
      rescale(r, List.of(1, 3, 4, 5), i, 4f);
      assertThat(logits(r, XS, B)).as("unit %d", i).containsExactly(before);
      assertThat(PathNorms.phi(r, r.params(), 2, true)).isCloseTo(phi, within(1e-12 * phi));
      Graph alone = g.copy();
      rescale(alone, List.of(3), i, 4f); // F's output only: the skip's weight 1 would have to change
      boolean active = false; // the block's output unit i is positive on some row: then the change shows
      for (int b = 0; b < B; b++) {
        active |= ws.activation(5).get(b * ResidualTest.H + i) > 0;
      }
      if (active) {
        assertThat(logits(alone, XS, B)).as("unit %d alone", i).isNotEqualTo(before);
        changed++;
      }
    }
    assertThat(changed).isPositive();
  }

  @Test
  void opsOutOfTopologicalOrderOrOfTheWrongWidthAreRefusedByName() {
    Tensor params = new Tensor(ResidualTest.SIZE);
    assertThatThrownBy(() -> new Graph(3, List.of(new AddOp(1, 2, 3)), params))
        .hasMessageContaining("op 0 (add) reads node 1").hasMessageContaining("topological");
    assertThatThrownBy(() -> new Graph(3, List.of(new LayerOp(new Dense(4, 2, 0, false), 0)), params))
        .hasMessageContaining("op 0 (dense) takes 4 inputs").hasMessageContaining("node 0 has 3");
  }
}
