package io.github.pathsgd.core.geometry;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Init;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.LayerSpec;
import io.github.pathsgd.core.util.Rng;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

/**
 * Pins the bytes of today's unbalanced initialization of an MLP and of a conv net (the draws of the quick {@code
 * rescaling} and {@code conv} presets and of {@code rescale --unbalance}): SHA-256 of the rescaled parameters and of
 * the returned factors, for the per-layer default and a total count, recorded with the separate MLP and channel
 * implementations before they became one model of unit ties (now {@code RescalingGroups}). Any change in which unit a
 * draw picks, in the order of the draws or in the rounding of a product changes a hash.
 */
class RescalingBytesPinTest {
  static String sha(float[] params, double[][] f) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    ByteBuffer b = ByteBuffer.allocate(4 * params.length);
    for (float v : params) {
      b.putInt(Float.floatToRawIntBits(v));
    }
    md.update(b.array());
    for (double[] row : f) {
      if (row != null) {
        for (double v : row) {
          md.update(ByteBuffer.allocate(8).putLong(Double.doubleToRawLongBits(v)).array());
        }
      }
    }
    StringBuilder s = new StringBuilder();
    for (byte x : md.digest()) {
      s.append(String.format("%02x", x));
    }
    return s.substring(0, 16);
  }

  static String mlp(Unbalance u) throws Exception {
    LayerNet net = Init.balanced(new DenseChain(20, 24, 16, 12, 4), new Rng(7));
    double[][] f = Rescaling.unbalanceChecked(net, u, new Rng(8).split("unbalance"));
    return sha(net.params().toArray(), f);
  }

  static String conv(Unbalance u) throws Exception {
    LayerNet net = LayerSpec.parse("conv(4,3,pad=1),maxpool(2),conv(6,3),avgpool(2),dense(9)").build(2, 10, 10, 5);
    Init.balanced(net, new Rng(7));
    double[][] f = ChannelRescaling.unbalanceChecked(net, u, new Rng(8).split("unbalance"));
    return sha(net.params().toArray(), f);
  }

  @Test
  void mlpAndConvUnbalancedBytesAreTodays() throws Exception {
    assertThat(mlp(Unbalance.DEFAULT) + " " + mlp(Unbalance.total(30))).isEqualTo("0b1694ffb4b1e0d6 8094380f522930ca");
    assertThat(conv(Unbalance.DEFAULT) + " " + conv(Unbalance.total(30))).isEqualTo("9da3d3bf43715e6d 8485db3125490e2c");
  }
}
