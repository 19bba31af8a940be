package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Initialization, norms, rescaling and layout descriptions read what each layer declares ({@link Layer#kind}, {@link
 * Layer#paramSlices}, {@link Layer#inputChannelRanges}, {@link Layer#spectralNorm}) instead of naming layer kinds: a
 * layer of a kind none of them knows (here a dense layer behind a wrapper of another class) is initialized, measured
 * and rescaled exactly as the dense layer it wraps. Before, {@code Init} skipped it silently (its weights stayed zero),
 * {@code ChannelRescaling} refused it as "not a hidden conv or dense layer", and the layout named it by its Java class.
 */
class DeclaredSlicesTest {
  /** A layer kind the library does not know: every call forwarded to a dense layer. */
  record Foreign(Dense d) implements Layer {
    @Override
    public String kind() {
      return "foreign";
    }

    @Override
    public List<ParamSlice> paramSlices() {
      return d.paramSlices();
    }

    @Override
    public boolean relu() {
      return d.relu();
    }

    @Override
    public void inputChannelRanges(int ch, int channels, Layer.Ranges ranges) {
      d.inputChannelRanges(ch, channels, ranges);
    }

    @Override
    public double spectralNorm(FloatBuffer params) {
      return d.spectralNorm(params);
    }

    @Override
    public int in() {
      return d.in();
    }

    @Override
    public int out() {
      return d.out();
    }

    @Override
    public int paramOffset() {
      return d.paramOffset();
    }

    @Override
    public int paramSize() {
      return d.paramSize();
    }

    @Override
    public void forward(Tensor out, Tensor inp, Tensor params, int B, float retain, Rng rng) {
      d.forward(out, inp, params, B, retain, rng);
    }

    @Override
    public void backward(Tensor dinp, Tensor grads, Tensor dout, Tensor out, Tensor inp, Tensor params, int B,
        float retain) {
      d.backward(dinp, grads, dout, out, inp, params, B, retain);
    }

    @Override
    public void gammaForward(FloatBuffer params, double[] gIn, double[] gOut, double p, boolean includeBiases) {
      d.gammaForward(params, gIn, gOut, p, includeBiases);
    }

    @Override
    public void gammaBackward(FloatBuffer params, double[] gOut, double[] gIn, double p) {
      d.gammaBackward(params, gOut, gIn, p);
    }

    @Override
    public void kappa(double[] gIn, double[] gOut, double p, double[] kappa) {
      d.kappa(gIn, gOut, p, kappa);
    }
  }

  static final int IN = 6;
  static final int HID = 5;
  static final int OUT = 3;

  static LayerNet plain() {
    return new LayerNet(List.of(new Dense(IN, HID, 0, true), new Dense(HID, OUT, IN * HID + HID, false)),
        new Tensor(IN * HID + HID + HID * OUT + OUT));
  }

  static LayerNet foreign() {
    return new LayerNet(List.of(new Foreign(new Dense(IN, HID, 0, true)), new Dense(HID, OUT, IN * HID + HID, false)),
        new Tensor(IN * HID + HID + HID * OUT + OUT));
  }

  static float[] logits(LayerNet net, float[] x) {
    Network.Workspace ws = net.workspace(2);
    ws.input().copyFrom(x, 0, 0, x.length);
    return net.forward(ws, 2, 1f, null).toArray();
  }

  @Test
  void anUnknownKindIsInitializedFromItsSlices() {
    LayerNet a = plain();
    LayerNet b = foreign();
    Init.balanced(a, new Rng(3));
    Init.balanced(b, new Rng(3));
    assertThat(b.params().toArray()).containsExactly(a.params().toArray());
    assertThat(b.params().get(0)).isNotZero();
    assertThat(b.layout().toString()).isEqualTo("foreign[6->5@0+35],dense[5->3@35+18]");
  }

  @Test
  void anUnknownKindIsMeasuredAndRescaledAsTheLayerItWraps() {
    LayerNet a = plain();
    LayerNet b = foreign();
    Init.balanced(a, new Rng(5));
    Init.balanced(b, new Rng(5));
    assertThat(ModelNorms.of((Network) b).values()).containsExactly(ModelNorms.of((Network) a).values());
    float[] x = new float[2 * IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (i % 4) * 0.5f - 0.5f;
    }
    float[] before = logits(b, x);
    assertThat(ChannelRescaling.hiddenLayers(b)).containsExactly(0);
    assertThat(ChannelRescaling.channels(b.layers().get(0))).isEqualTo(HID);
    ChannelRescaling.scaleChannel(b, 0, 2, 8.0); // a power of two: every product exact, the logits bit for bit
    ChannelRescaling.scaleChannel(a, 0, 2, 8.0);
    assertThat(b.params().toArray()).containsExactly(a.params().toArray());
    assertThat(b.params().get(2 * IN)).isEqualTo(8f * plainInit(5).params().get(2 * IN));
    assertThat(logits(b, x)).containsExactly(before);
  }

  static LayerNet plainInit(long seed) {
    LayerNet n = plain();
    Init.balanced(n, new Rng(seed));
    return n;
  }

  @Test
  void theLayersDeclareTheirSlicesAndKinds() {
    LayerNet net = LayerSpec.parse("conv(4,3,pad=1),maxpool(2),avgpool(2),dense(7)").build(2, 8, 8, 3);
    List<Layer> ls = net.layers();
    assertThat(ls.stream().map(Layer::kind)).containsExactly("conv", "maxpool", "avgpool", "dense", "dense");
    assertThat(ls.get(0).paramSlices()).containsExactly(ParamSlice.weight(0, 18, 4, 2, 3, 3), ParamSlice.bias(72, 4));
    assertThat(ls.get(1).paramSlices()).isEmpty();
    assertThat(ls.get(3).paramSlices()).containsExactly(ParamSlice.weight(76, 16, 7, 16), ParamSlice.bias(188, 7));
    for (Layer l : ls) { // the slices tile the layer's parameter range
      int at = l.paramOffset();
      for (ParamSlice s : l.paramSlices()) {
        assertThat(s.offset()).isEqualTo(at);
        at += s.size();
      }
      assertThat(at).isEqualTo(l.paramOffset() + l.paramSize());
    }
  }
}
