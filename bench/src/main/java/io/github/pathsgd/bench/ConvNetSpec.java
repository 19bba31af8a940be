package io.github.pathsgd.bench;

import io.github.pathsgd.core.nn.AvgPool2d;
import io.github.pathsgd.core.nn.Conv2d;
import io.github.pathsgd.core.nn.Dense;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.MaxPool2d;
import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A conv net for {@code pathsgd bench --conv}: a layer list such as {@code
 * conv(32,3,pad=1),maxpool(2),conv(64,3,pad=1),maxpool(2),dense(256)} (issue 13's syntax) on a C×H×W input, with the
 * linear output layer (one unit per class) added. Items: {@code conv(F,K[,stride=S][,pad=P])} (F filters of K×K, ReLU),
 * {@code maxpool(K[,stride=S])} and {@code avgpool(K[,stride=S])} (stride K unless given), {@code dense(N)} (ReLU).
 *
 * @param text the spec as given
 * @param channels input channels C
 * @param height input height H
 * @param width input width W
 * @param classes output units
 * @param layers the layers, parameters packed in order from offset 0
 * @param paramCount the size of the parameter vector
 */
public record ConvNetSpec(String text, int channels, int height, int width, int classes, List<Layer> layers,
    int paramCount) {
  /** The CIFAR-10 net. */
  public static final String CIFAR10 = "conv(32,3,pad=1),maxpool(2),conv(64,3,pad=1),maxpool(2),dense(256)";

  private static final Pattern ITEM = Pattern.compile("\\s*([a-z]+)\\s*\\(([^()]*)\\)\\s*");

  /** Parses {@code spec} for a {@code shape} "CxHxW" input and {@code classes} outputs. */
  public static ConvNetSpec parse(String spec, String shape, int classes) {
    String[] dims = shape.trim().split("x");
    int[] chw = new int[3];
    if (dims.length != 3) {
      throw new IllegalArgumentException("shape: expected CxHxW such as 3x32x32, got '" + shape + "'");
    }
    for (int i = 0; i < 3; i++) {
      chw[i] = positive(dims[i], "shape '" + shape + "'");
    }
    if (classes < 1) {
      throw new IllegalArgumentException("classes: must be positive, got " + classes);
    }
    List<Layer> layers = new ArrayList<>();
    int c = chw[0];
    int h = chw[1];
    int w = chw[2];
    int flat = -1; // width of the last dense layer, -1 while the activations are still images
    int off = 0;
    for (String item : items(spec)) {
      Matcher m = ITEM.matcher(item);
      if (!m.matches()) {
        throw bad(item, "expected conv(F,K[,stride=S][,pad=P]), maxpool(K[,stride=S]), avgpool(K[,stride=S]) or"
            + " dense(N)");
      }
      String kind = m.group(1);
      String[] args = m.group(2).split(",");
      int[] pos = new int[2];
      int npos = 0;
      int stride = -1;
      int pad = 0;
      for (String a : args) {
        String t = a.trim();
        if (t.startsWith("stride=")) {
          stride = positive(t.substring(7), "'" + item.trim() + "'");
        } else if (t.startsWith("pad=")) {
          pad = nonNegative(t.substring(4), "'" + item.trim() + "'");
        } else if (npos < 2) {
          pos[npos++] = positive(t, "'" + item.trim() + "'");
        } else {
          throw bad(item, "too many arguments");
        }
      }
      Layer l;
      switch (kind) {
        case "conv" -> {
          if (npos != 2 || flat >= 0) {
            throw bad(item, flat >= 0 ? "a convolution cannot follow a dense layer" : "expected conv(F,K,...)");
          }
          l = new Conv2d(c, h, w, pos[0], pos[1], pos[1], stride < 0 ? 1 : stride, pad, off, true);
          Conv2d cv = (Conv2d) l;
          c = pos[0];
          h = cv.outHeight();
          w = cv.outWidth();
        }
        case "maxpool", "avgpool" -> {
          if (npos != 1 || flat >= 0 || pad != 0) {
            throw bad(item, flat >= 0 ? "pooling cannot follow a dense layer" : "expected " + kind + "(K[,stride=S])");
          }
          int s = stride < 0 ? pos[0] : stride;
          if (kind.equals("maxpool")) {
            MaxPool2d p = new MaxPool2d(c, h, w, pos[0], s, off);
            h = p.outHeight();
            w = p.outWidth();
            l = p;
          } else {
            AvgPool2d p = new AvgPool2d(c, h, w, pos[0], s, off);
            h = p.outHeight();
            w = p.outWidth();
            l = p;
          }
        }
        case "dense" -> {
          if (npos != 1 || stride >= 0 || pad != 0) {
            throw bad(item, "expected dense(N)");
          }
          l = new Dense(flat >= 0 ? flat : c * h * w, pos[0], off, true);
          flat = pos[0];
        }
        default -> throw bad(item, "unknown layer '" + kind + "'");
      }
      layers.add(l);
      off = Math.addExact(off, l.paramSize());
    }
    Dense last = new Dense(flat >= 0 ? flat : c * h * w, classes, off, false);
    layers.add(last);
    off = Math.addExact(off, last.paramSize());
    return new ConvNetSpec(spec, chw[0], chw[1], chw[2], classes, List.copyOf(layers), off);
  }

  /** "3x32x32". */
  public String shape() {
    return channels + "x" + height + "x" + width;
  }

  /** Input width C·H·W. */
  public int inputSize() {
    return channels * height * width;
  }

  /**
   * He-normal weights (N(0, 2/fan-in), fan-in = C·K² for a convolution, the input width for a dense layer) and zero
   * biases, from {@code rng}.
   */
  public Tensor init(Rng rng) {
    Tensor p = new Tensor(paramCount);
    for (Layer l : layers) {
      int weights;
      int fanIn;
      if (l instanceof Conv2d cv) {
        weights = cv.biasOffset() - cv.weightOffset();
        fanIn = weights / cv.filters();
      } else if (l instanceof Dense d) {
        weights = d.biasOffset() - d.weightOffset();
        fanIn = d.in();
      } else {
        continue;
      }
      double sd = Math.sqrt(2.0 / fanIn);
      for (int i = 0; i < weights; i++) {
        p.set(l.paramOffset() + i, (float) (rng.nextGaussian() * sd));
      }
    }
    return p;
  }

  /**
   * FLOPs of one training step: 2·B per multiply-add of the forward pass of every conv and dense layer, the same for
   * the weight gradients, and the same again for the input gradients of every layer but the first (pooling
   * excluded).
   */
  public double stepFlops(int batch) {
    double f = 0;
    for (int k = 0; k < layers.size(); k++) {
      Layer l = layers.get(k);
      double mac;
      if (l instanceof Conv2d cv) {
        mac = (double) cv.out() * ((cv.biasOffset() - cv.weightOffset()) / cv.filters());
      } else if (l instanceof Dense d) {
        mac = (double) d.in() * d.out();
      } else {
        continue;
      }
      f += 2 * mac * batch * (k == 0 ? 2 : 3);
    }
    return f;
  }

  /** The spec's items, split at the commas outside parentheses. */
  static List<String> items(String spec) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < spec.length(); i++) {
      char ch = spec.charAt(i);
      if (ch == '(') {
        depth++;
      } else if (ch == ')') {
        depth--;
      } else if (ch == ',' && depth == 0) {
        out.add(spec.substring(start, i));
        start = i + 1;
      }
      if (depth < 0 || depth > 1) {
        throw new IllegalArgumentException("--conv: unbalanced parentheses in '" + spec + "'");
      }
    }
    if (depth != 0) {
      throw new IllegalArgumentException("--conv: unbalanced parentheses in '" + spec + "'");
    }
    out.add(spec.substring(start));
    if (out.size() == 1 && out.get(0).isBlank()) {
      throw new IllegalArgumentException("--conv: empty layer list");
    }
    return out;
  }

  private static IllegalArgumentException bad(String item, String why) {
    return new IllegalArgumentException(String.format(Locale.ROOT, "--conv: '%s': %s", item.trim(), why));
  }

  private static int positive(String s, String where) {
    int v = integer(s, where);
    if (v < 1) {
      throw new IllegalArgumentException("--conv: " + where + ": expected a positive integer, got '" + s.trim() + "'");
    }
    return v;
  }

  private static int nonNegative(String s, String where) {
    int v = integer(s, where);
    if (v < 0) {
      throw new IllegalArgumentException("--conv: " + where + ": expected an integer >= 0, got '" + s.trim() + "'");
    }
    return v;
  }

  private static int integer(String s, String where) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--conv: " + where + ": expected an integer, got '" + s.trim() + "'");
    }
  }
}
