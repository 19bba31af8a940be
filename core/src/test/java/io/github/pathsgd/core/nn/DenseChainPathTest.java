package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.core.optim.Optimizer;
import io.github.pathsgd.core.optim.Optimizers;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * One network type ({@link LayerNet}) and one layout ({@link NetLayout}): which networks take the fast path of a
 * {@link DenseChain} (the folded step, decided in one place from what the layers declare), what their layouts say
 * (equality and text as checkpoints and optimizer states rely on), and that the ops keep no step scratch (it lives in
 * the workspace, so two workspaces of one network run side by side).
 */
class DenseChainPathTest {
  static final int[] WIDTHS = {5, 7, 4, 3};

  /** Dense layers of {@link #WIDTHS} by hand, in chain order: W_0, b_0, W_1, b_1, ... */
  static List<Layer> handMade() {
    DenseChain c = new DenseChain(WIDTHS);
    List<Layer> layers = new ArrayList<>();
    for (int l = 0; l < c.layers(); l++) {
      layers.add(new Dense(c.in(l), c.out(l), c.weightOffset(l), l < c.layers() - 1));
    }
    return layers;
  }

  static float[] inputs(int n, long seed) {
    return GraphTest.inputs(n, seed);
  }

  @Test
  void aHandMadeChainOfDenseLayersTakesTheFastPathAndTrainsBitForBitAsTheDenseFactory() {
    int[] labels = {0, 2, 1, 1, 0, 2};
    float[] xs = inputs(labels.length * WIDTHS[0], 3);
    for (Optimizer opt : List.of(Optimizers.sgd(0.1, 0.9, false), Optimizers.pathSgd(0.05, 2, 0.9, false))) {
      LayerNet a = LayerNet.dense(WIDTHS);
      Init.balanced(a, new Rng(7));
      LayerNet b = new LayerNet(handMade(), a.params().copy());
      assertThat(b.layout().denseChain()).isEqualTo(new DenseChain(WIDTHS));
      assertThat(b.layout()).isEqualTo(a.layout()).hasToString("5-7-4-3");
      float[] start = a.params().toArray();
      float[] want = GraphTest.train(a, opt, new Dropout(0.8f, 0.9f), 3, xs, labels);
      assertThat(want).isNotEqualTo(start);
      assertThat(GraphTest.train(b, opt, new Dropout(0.8f, 0.9f), 3, xs, labels)).as("%s", opt).containsExactly(want);
    }
  }

  @Test
  void theFoldedStepEqualsTheGradientStepUpToRounding() {
    int B = 4;
    int[] labels = {1, 0, 2, 2};
    LayerNet a = LayerNet.dense(WIDTHS);
    Init.balanced(a, new Rng(5));
    LayerNet b = a.copy();
    float[] xs = inputs(B * WIDTHS[0], 9);
    Network.Workspace wa = a.workspace(B);
    wa.input().copyFrom(xs, 0, 0, xs.length);
    FoldedStep f = new FoldedStep(a.chain());
    f.scale(-0.1);
    a.fusedStep(wa, B, labels, 0, Dropout.NONE, null, f);
    Network.Workspace wb = b.workspace(B);
    wb.input().copyFrom(xs, 0, 0, xs.length);
    Tensor g = new Tensor(b.layout().size());
    b.lossAndGradient(wb, B, labels, 0, g, Dropout.NONE, null);
    float[] pa = a.params().toArray();
    float[] pb = b.params().toArray();
    float[] gs = g.toArray();
    double moved = 0;
    for (int i = 0; i < pb.length; i++) {
      float want = pb[i] - 0.1f * gs[i];
      assertThat((double) pa[i]).as("parameter %d", i).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6));
      moved = Math.max(moved, Math.abs(pa[i] - pb[i]));
    }
    assertThat(moved).isGreaterThan(1e-4);
  }

  @Test
  void networksThatAreNotAChainOfDenseLayersTakeTheGeneralPath() {
    DenseChain c = new DenseChain(WIDTHS);
    List<List<Layer>> others = new ArrayList<>();
    List<Layer> reluOut = new ArrayList<>(handMade()); // a ReLU after the output layer
    reluOut.set(2, new Dense(4, 3, c.weightOffset(2), true));
    others.add(reluOut);
    List<Layer> linearHidden = new ArrayList<>(handMade()); // no ReLU between layers 0 and 1
    linearHidden.set(0, new Dense(5, 7, 0, false));
    others.add(linearHidden);
    // layer 1's parameters first, then layer 0's: the same shapes, not the W_0, b_0, W_1, ... order
    others.add(List.of(new Dense(5, 7, 7 * 4 + 4, true), new Dense(7, 4, 0, false)));
    for (List<Layer> layers : others) {
      int size = 0;
      for (Layer l : layers) {
        size = Math.max(size, l.paramOffset() + l.paramSize());
      }
      requireGeneral(new LayerNet(layers, new Tensor(size)));
    }
    // built from a spec: described by its spec, it keeps the general path even with dense layers only
    LayerNet spec = LayerSpec.parse("dense(7),dense(4)").build(1, 1, 5, 3);
    requireGeneral(spec);
    assertThat(spec.layout().toString()).isEqualTo("dense[5->7@0+42],dense[7->4@42+32],dense[4->3@74+15]");
    assertThat(spec.layout()).isNotEqualTo(LayerNet.dense(WIDTHS).layout());
    assertThat(LayerNet.dense(WIDTHS).layout()).isNotEqualTo(spec.layout());
    requireGeneral(LayerSpec.parse("conv(2,3),maxpool(2),dense(4)").build(1, 6, 6, 3));
  }

  private static void requireGeneral(LayerNet net) {
    assertThat(net.layout().denseChain()).as("%s", net.layout()).isNull();
    assertThat(net.layout().checkpointWidths()).containsExactly(0, net.layout().size());
    Network.Workspace ws = net.workspace(2);
    assertThat(ws.scratch).as("the folded step's scratch").isNull();
    assertThat(ws.biasSum).isNull();
    assertThatThrownBy(() -> net.fusedBackward(ws, 2, new int[2], 0, Dropout.NONE, new FoldedStep(
        new DenseChain(WIDTHS)))).isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("has no folded step");
    assertThatThrownBy(net::chain).isInstanceOf(IllegalStateException.class)
        .hasMessage("network " + net.layout() + " is not a chain of dense layers");
  }

  @Test
  void aDenseLayoutIsItsWidthsAsParamLayoutWas() {
    NetLayout a = NetLayout.dense(WIDTHS);
    NetLayout b = LayerNet.dense(new DenseChain(WIDTHS)).layout();
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b).hasToString("5-7-4-3");
    assertThat(a.hashCode()).isEqualTo(java.util.Arrays.hashCode(WIDTHS));
    assertThat(a.checkpointWidths()).containsExactly(WIDTHS);
    assertThat(a.size()).isEqualTo(5 * 7 + 7 + 7 * 4 + 4 + 4 * 3 + 3);
    assertThat(a).isNotEqualTo(NetLayout.dense(5, 7, 5, 3));
    assertThat(a.sequence()).extracting(Layer::kind).containsExactly("dense", "dense", "dense");
    // a workspace of a chain has the folded step's scratch and no shared scratch (no node has two readers)
    Network.Workspace ws = LayerNet.dense(WIDTHS).workspace(3);
    assertThat(ws.scratch.size()).isEqualTo(3 * 7);
    assertThat(ws.tmp).isNull();
    assertThatThrownBy(() -> LayerNet.dense(new DenseChain(WIDTHS), new Tensor(3)))
        .hasMessage("parameter vector has 3 floats, layout 5-7-4-3 needs " + a.size());
  }

  /**
   * Every instance field of the ops and layers is final and none is a buffer (shapes and offsets only), but for
   * Conv2d's test knob.
   */
  @Test
  void opsAndLayersHoldNoScratch() {
    for (Class<?> k : List.of(Conv2d.class, Pool2d.class, MaxPool2d.class, AvgPool2d.class, Dense.class,
        Residual.class, LayerOp.class, AddOp.class, ReluOp.class, DenseChainPath.class)) {
      for (Field fl : k.getDeclaredFields()) {
        if (Modifier.isStatic(fl.getModifiers()) || (k == Conv2d.class && fl.getName().equals("chunkOverride"))) {
          continue;
        }
        assertThat(Modifier.isFinal(fl.getModifiers())).as("%s.%s", k.getSimpleName(), fl.getName()).isTrue();
        Class<?> t = fl.getType();
        assertThat(t == float[].class || t == double[].class || t == Tensor.class
            || java.nio.Buffer.class.isAssignableFrom(t)).as("%s.%s is a buffer", k.getSimpleName(), fl.getName())
            .isFalse();
      }
    }
  }

  @Test
  void twoWorkspacesOfOneConvolutionalNetworkRunSideBySideAsAlone() throws Exception {
    LayerNet net = LayerSpec.parse("conv(3,3,pad=1),maxpool(2),conv(4,3),avgpool(1),dense(5)").build(2, 8, 8, 3);
    Init.balanced(net, new Rng(2));
    int B = 4;
    int[] labels = {0, 1, 2, 1};
    float[][] xs = {inputs(B * net.inputs(), 21), inputs(B * net.inputs(), 22)};
    float[][] alone = new float[2][];
    for (int t = 0; t < 2; t++) {
      alone[t] = gradient(net, net.workspace(B), xs[t], labels, 1);
    }
    assertThat(alone[0]).isNotEqualTo(alone[1]);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<float[]>> side = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        float[] x = xs[t];
        Network.Workspace ws = net.workspace(B);
        side.add(pool.submit(() -> gradient(net, ws, x, labels, 30)));
      }
      for (int t = 0; t < 2; t++) {
        assertThat(side.get(t).get()).as("workspace %d", t).containsExactly(alone[t]);
      }
    } finally {
      pool.shutdownNow();
    }
    Network.Workspace ws = net.workspace(B);
    assertThat(ws.opScratch).hasSize(6); // conv, maxpool, conv, avgpool, dense(5), the output dense
    assertThat(ws.opScratch[0]).isNotNull().isNotSameAs(net.workspace(B).opScratch[0]);
    assertThat(ws.opScratch[1]).isNotNull();
    assertThat(ws.opScratch[4]).isNull(); // dense: no step scratch
    assertThat(ws.opScratch[5]).isNull();
  }

  /** The gradient of one batch, computed {@code times} times over (each must give the same bits). */
  private static float[] gradient(LayerNet net, Network.Workspace ws, float[] xs, int[] labels, int times) {
    float[] first = null;
    for (int i = 0; i < times; i++) {
      Tensor g = new Tensor(net.layout().size());
      ws.input().copyFrom(xs, 0, 0, xs.length);
      net.lossAndGradient(ws, labels.length, labels, 0, g, Dropout.NONE, null);
      float[] v = g.toArray();
      if (first == null) {
        first = v;
      } else if (!java.util.Arrays.equals(first, v)) {
        return v;
      }
    }
    return first;
  }
}
