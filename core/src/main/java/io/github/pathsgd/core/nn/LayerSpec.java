package io.github.pathsgd.core.nn;

import io.github.pathsgd.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hidden layers of a {@link LayerNet} as text, the form of {@code pathsgd train --layers} and the YAML key {@code
 * layers}: a comma-separated list of
 *
 * <pre>
 *   conv(F,K[,stride=S][,pad=P])   F filters of K×K (or KHxKW, e.g. 3x5), stride S (default 1), zero padding P (0)
 *   avgpool(K[,stride=S])           average pooling over K×K windows, stride S (default K)
 *   maxpool(K[,stride=S])           max pooling likewise
 *   dense(N)                        a fully connected layer of N units
 *   flatten                         no layer: marks the end of the image layers (optional, see below)
 *   res(ITEM,ITEM...)               a residual block y = relu(x + F(x)), F the conv and dense items given, its last
 *                                   one linear (no ReLU); F must keep the shape (an identity skip, {@link Residual})
 *   res(ITEM,ITEM...,proj)          y = relu(P·x + F(x)) with a projection skip P: a linear 1x1 conv (stride S when
 *                                   F's output is S times smaller) or, when F ends dense, a linear dense layer
 *   rnn(H[,kappa2])                 a ReLU RNN of H units over the input sequence, giving h_T ({@link Recurrent});
 *                                   first item only; kappa2: Path-SGD's κ adds the cross term κ^(2)
 * </pre>
 *
 * For {@code rnn}, the input shape (1, T, F) is the sequence: height T steps of width F features (the shape of the
 * sequence data sets, e.g. {@code seqmnist-14}: 1x196x1); only dense items may follow it.
 *
 * e.g. {@code conv(16,3,pad=1),avgpool(2),conv(32,3,pad=1),maxpool(2),dense(128)}. Convolutions and dense layers are
 * followed by ReLU (and dropout in training); pooling follows the layer before it. {@link #build} adds the output layer
 * (one linear unit per class). Activations are flat rows in (C, H, W) order, which is already the order a dense layer
 * reads, so the transition from images to vectors is implicit: {@code flatten} adds nothing and is accepted only for
 * readability; after a dense layer or a {@code flatten}, no conv or pooling may follow.
 */
public final class LayerSpec {
  /** One item of the list. */
  public sealed interface Item permits Conv, Pool, Full, Flatten, Res, Rnn {}

  /**
   * {@code res(ITEM,...)}: a residual block over conv and dense items with an identity skip, or with a projection skip
   * ({@code res(ITEM,...,proj)}, {@code proj} true).
   */
  public record Res(List<Item> f, boolean proj) implements Item {
    public Res {
      f = List.copyOf(f);
    }

    /** A block with an identity skip. */
    public Res(List<Item> f) {
      this(f, false);
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("res(");
      for (int i = 0; i < f.size(); i++) {
        sb.append(i == 0 ? "" : ",").append(f.get(i));
      }
      return sb.append(proj ? ",proj" : "").append(')').toString();
    }
  }

  /** {@code conv(F,KHxKW,stride=S,pad=P)}. */
  public record Conv(int filters, int kh, int kw, int stride, int pad) implements Item {
    @Override
    public String toString() {
      return "conv(" + filters + "," + (kh == kw ? "" + kh : kh + "x" + kw) + (stride == 1 ? "" : ",stride=" + stride)
          + (pad == 0 ? "" : ",pad=" + pad) + ")";
    }
  }

  /** {@code avgpool(K,stride=S)} or {@code maxpool(K,stride=S)}. */
  public record Pool(boolean max, int k, int stride) implements Item {
    @Override
    public String toString() {
      return (max ? "maxpool(" : "avgpool(") + k + (stride == k ? "" : ",stride=" + stride) + ")";
    }
  }

  /** {@code dense(N)}. */
  public record Full(int units) implements Item {
    @Override
    public String toString() {
      return "dense(" + units + ")";
    }
  }

  /** {@code rnn(H)} or {@code rnn(H,kappa2)}: a recurrent layer of H ReLU units reading the input sequence. */
  public record Rnn(int hidden, boolean kappa2) implements Item {
    @Override
    public String toString() {
      return "rnn(" + hidden + (kappa2 ? ",kappa2" : "") + ")";
    }
  }

  /** {@code flatten}: no layer. */
  public record Flatten() implements Item {
    @Override
    public String toString() {
      return "flatten";
    }
  }

  /**
   * The most items a spec may have, and the most hidden layers of a fully connected network ({@code hidden}): far
   * beyond any network worth training, and refused before any item is parsed or any layer built.
   */
  public static final int MAX_LAYERS = 1000;
  /** The largest number an item's argument may be (sizes, strides, padding): nine digits. */
  public static final int MAX_ARGUMENT = 999_999_999;

  private static final Pattern ITEM = Pattern.compile("([a-z0-9_]+)\\s*(?:\\((.*)\\))?", Pattern.DOTALL);
  private static final Pattern KERNEL = Pattern.compile("(\\d+)(?:x(\\d+))?");

  private final List<Item> items;

  private LayerSpec(List<Item> items) {
    this.items = List.copyOf(items);
  }

  /** The items, in order. */
  public List<Item> items() {
    return items;
  }

  /** Whether the list has an image layer (conv or pooling): only then does the input shape matter. */
  public boolean hasImageLayers() {
    return items.stream().anyMatch(i -> i instanceof Conv || i instanceof Pool
        || i instanceof Res r && r.f().stream().anyMatch(j -> j instanceof Conv));
  }

  /**
   * The widths n_0..n_L of the same network as a fully connected chain ({@code inputs}, each {@code dense(n)}, {@code
   * classes}) when every item is dense, else null: the networks that take the folded step and the rank-one κ.
   */
  public int[] denseWidths(int inputs, int classes) {
    if (!items.stream().allMatch(i -> i instanceof Full)) {
      return null;
    }
    int[] w = new int[items.size() + 2];
    w[0] = inputs;
    for (int k = 0; k < items.size(); k++) {
      w[k + 1] = ((Full) items.get(k)).units();
    }
    w[w.length - 1] = classes;
    return w;
  }

  /** The canonical text (defaults left out), which {@link #parse} reads back to an equal spec. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Item i : items) {
      sb.append(sb.length() == 0 ? "" : ",").append(i);
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LayerSpec s && s.items.equals(items);
  }

  @Override
  public int hashCode() {
    return items.hashCode();
  }

  /**
   * Reads a spec; refuses, with a one-line message naming the token and what was expected, anything else (an empty
   * list is refused too: a network without hidden layers is {@code --hidden ""}'s business).
   */
  public static LayerSpec parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("layers: empty list; expected e.g. conv(16,3,pad=1),avgpool(2),dense(128)");
    }
    List<Item> items = new ArrayList<>();
    List<String> tokens = split(text);
    if (tokens.size() > MAX_LAYERS) {
      throw new IllegalArgumentException("layers: expected at most " + MAX_LAYERS + " items, got " + tokens.size());
    }
    for (String token : tokens) {
      items.add(item(token));
    }
    return new LayerSpec(items);
  }

  /** The list split at the commas outside parentheses; refuses unbalanced parentheses and empty tokens. */
  private static List<String> split(String text) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int from = 0;
    for (int i = 0; i <= text.length(); i++) {
      char ch = i < text.length() ? text.charAt(i) : ',';
      if (ch == '(') {
        depth++; // nesting is for res(...); another item with nested parentheses fails on its arguments
      } else if (ch == ')') {
        depth--;
        if (depth < 0) {
          throw new IllegalArgumentException("layers: unmatched ')' in '" + text.substring(from, i + 1).strip()
              + "'; expected NAME(ARGS) items separated by commas");
        }
      } else if (ch == ',' && depth == 0) {
        String token = text.substring(from, Math.min(i, text.length())).strip();
        if (token.isEmpty()) {
          throw new IllegalArgumentException("layers: empty item at position " + (out.size() + 1) + " of '" + text
              + "'; expected NAME(ARGS) items separated by commas");
        }
        out.add(token);
        from = i + 1;
      }
    }
    if (depth != 0) {
      throw new IllegalArgumentException("layers: unclosed '(' in '" + text.substring(from).strip() + "'; expected "
          + "NAME(ARGS) items separated by commas");
    }
    return out;
  }

  private static Item item(String token) {
    Matcher m = ITEM.matcher(token.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw bad(token, "NAME(ARGS) with NAME one of conv, avgpool, maxpool, dense, flatten, res, rnn");
    }
    String name = m.group(1);
    String[] args = m.group(2) == null || m.group(2).isBlank() ? new String[0] : m.group(2).split(",", -1);
    for (int i = 0; i < args.length; i++) {
      args[i] = args[i].strip();
    }
    switch (name) {
      case "conv" -> {
        String usage = "conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as K or KHxKW";
        if (args.length < 2) {
          throw bad(token, usage);
        }
        int f = positive(token, args[0], "FILTERS", usage);
        Matcher k = KERNEL.matcher(args[1]);
        if (!k.matches()) {
          throw bad(token, usage + " (KERNEL '" + args[1] + "')");
        }
        int kh = positive(token, k.group(1), "KERNEL", usage);
        int kw = k.group(2) == null ? kh : positive(token, k.group(2), "KERNEL", usage);
        int[] opt = options(token, args, 2, usage, new String[] {"stride", "pad"}, new int[] {1, 0});
        if (opt[0] < 1) {
          throw bad(token, usage + " with stride >= 1");
        }
        return new Conv(f, kh, kw, opt[0], opt[1]);
      }
      case "avgpool", "maxpool" -> {
        String usage = name + "(K[,stride=S])";
        if (args.length < 1) {
          throw bad(token, usage);
        }
        int k = positive(token, args[0], "K", usage);
        int[] opt = options(token, args, 1, usage, new String[] {"stride"}, new int[] {k});
        if (opt[0] < 1) {
          throw bad(token, usage + " with stride >= 1");
        }
        return new Pool(name.equals("maxpool"), k, opt[0]);
      }
      case "dense" -> {
        String usage = "dense(UNITS)";
        if (args.length != 1) {
          throw bad(token, usage);
        }
        return new Full(positive(token, args[0], "UNITS", usage));
      }
      case "rnn" -> {
        String usage = "rnn(UNITS) or rnn(UNITS,kappa2)";
        if (args.length < 1 || args.length > 2 || args.length == 2 && !args[1].equals("kappa2")) {
          throw bad(token, usage);
        }
        return new Rnn(positive(token, args[0], "UNITS", usage), args.length == 2);
      }
      case "flatten" -> {
        if (args.length != 0) {
          throw bad(token, "flatten or flatten() (no arguments)");
        }
        return new Flatten();
      }
      case "res" -> {
        String usage = "res(ITEM,ITEM...[,proj]) with conv and dense items, the skip an identity (or a projection, "
            + "proj, last)";
        if (m.group(2) == null || m.group(2).isBlank()) {
          throw bad(token, usage);
        }
        List<Item> f = new ArrayList<>();
        List<String> inners = split(m.group(2));
        boolean proj = false;
        for (int q = 0; q < inners.size(); q++) {
          String inner = inners.get(q);
          if (inner.equalsIgnoreCase("proj")) {
            if (q != inners.size() - 1 || q == 0) {
              throw bad(token, usage + " ('proj' must come last, after at least one item)");
            }
            proj = true;
            continue;
          }
          Item it = item(inner);
          if (!(it instanceof Conv || it instanceof Full)) {
            throw bad(token, usage + " ('" + inner + "' is not a conv or dense item)");
          }
          f.add(it);
        }
        return new Res(f, proj);
      }
      default -> throw bad(token, "one of conv, avgpool, maxpool, dense, flatten, res, rnn (not '" + name + "')");
    }
  }

  /** key=value options after the positional arguments; each key at most once; values non-negative integers. */
  private static int[] options(String token, String[] args, int from, String usage, String[] keys, int[] defaults) {
    int[] v = defaults.clone();
    boolean[] seen = new boolean[keys.length];
    for (int i = from; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      String key = eq < 0 ? args[i] : args[i].substring(0, eq).strip();
      int at = java.util.Arrays.asList(keys).indexOf(key);
      if (eq < 0 || at < 0) {
        throw bad(token, usage + " ('" + args[i] + "' is not one of " + String.join("=, ", keys) + "=)");
      }
      if (seen[at]) {
        throw bad(token, usage + " (" + key + " given twice)");
      }
      seen[at] = true;
      v[at] = nonNegative(token, args[i].substring(eq + 1).strip(), key, usage);
    }
    return v;
  }

  private static int positive(String token, String s, String what, String usage) {
    int v = nonNegative(token, s, what, usage);
    if (v < 1) {
      throw bad(token, usage + " with " + what + " >= 1");
    }
    return v;
  }

  private static int nonNegative(String token, String s, String what, String usage) {
    if (!s.matches("\\d+")) {
      throw bad(token, usage + " (" + what + " '" + s + "' is not a non-negative integer)");
    }
    String digits = s.replaceFirst("^0+(?=\\d)", "");
    if (digits.length() > 9) {
      throw bad(token, usage + " with " + what + " at most " + MAX_ARGUMENT + " (got " + (digits.length() > 30
          ? digits.substring(0, 30) + "..., " + digits.length() + " digits" : digits) + ")");
    }
    return Integer.parseInt(digits);
  }

  private static IllegalArgumentException bad(String token, String expected) {
    return new IllegalArgumentException("layers: '" + token + "': expected " + expected);
  }

  /**
   * The network for inputs of {@code channels × height × width} (flat rows in CHW order) and {@code classes} outputs,
   * all parameters zero: the spec's layers, then a linear dense output layer of {@code classes} units. Refuses, naming
   * the layer (its position and text) and the shape it got, a kernel or window larger than its (padded) input, an image
   * layer after a dense layer or flatten, and a network whose parameters or activations overflow one buffer.
   */
  public LayerNet build(int channels, int height, int width, int classes) {
    if (channels < 1 || height < 1 || width < 1 || classes < 1) {
      throw new IllegalArgumentException("layers: input shape " + channels + "x" + height + "x" + width + " and "
          + classes + " classes must be positive");
    }
    List<Layer> layers = new ArrayList<>();
    int c = channels;
    int h = height;
    int w = width;
    boolean flat = false;
    long off = 0;
    for (int i = 0; i < items.size(); i++) {
      Item it = items.get(i);
      String where = "layers: layer " + (i + 1) + " '" + it + "'";
      String shape = flat ? "a vector of " + ((long) c * h * w) : c + "x" + h + "x" + w;
      int at = (int) Math.min(off, Integer.MAX_VALUE);
      if (it instanceof Rnn rn) {
        if (i > 0) {
          throw new IllegalArgumentException(where + ": an rnn must be the first item (it reads the input sequence; "
              + "an rnn after other layers is not supported by its path geometry)");
        }
        if (channels != 1) {
          throw new IllegalArgumentException(where + " needs a sequence input 1xTxF (T steps of F features), got "
              + shape);
        }
        long need = (long) h * w + (long) rn.hidden() * w + (long) rn.hidden() * rn.hidden() + rn.hidden();
        if (need > DenseChain.MAX_PARAMS) {
          throw new IllegalArgumentException(where + ": the network has " + need + " parameters or inputs, more than "
              + "the " + DenseChain.MAX_PARAMS + " one float32 buffer can hold");
        }
        Recurrent l = new Recurrent(h, w, rn.hidden(), at, rn.kappa2());
        layers.add(l);
        off += l.paramSize();
        c = rn.hidden();
        h = 1;
        w = 1;
        flat = true;
      } else if (it instanceof Conv cv) {
          if (flat) {
            throw new IllegalArgumentException(where + " needs an image input but gets " + shape
                + " (no conv or pooling after dense or flatten)");
          }
          if (h + 2 * cv.pad() < cv.kh() || w + 2 * cv.pad() < cv.kw()) {
            throw new IllegalArgumentException(where + ": kernel " + cv.kh() + "x" + cv.kw()
                + " is larger than its input " + shape + " padded to " + (h + 2 * cv.pad()) + "x"
                + (w + 2 * cv.pad()));
          }
          long need = off + (long) cv.filters() * c * cv.kh() * cv.kw() + cv.filters();
          if (need > DenseChain.MAX_PARAMS) {
            throw new IllegalArgumentException(where + ": the network has " + need + " parameters, more than the "
                + DenseChain.MAX_PARAMS + " one float32 buffer can hold");
          }
          Conv2d l = new Conv2d(c, h, w, cv.filters(), cv.kh(), cv.kw(), cv.stride(), cv.pad(), at, true);
          layers.add(l);
          off += l.paramSize();
          c = cv.filters();
          h = l.outHeight();
          w = l.outWidth();
      } else if (it instanceof Pool pl) {
          if (flat) {
            throw new IllegalArgumentException(where + " needs an image input but gets " + shape
                + " (no conv or pooling after dense or flatten)");
          }
          if (pl.k() > h || pl.k() > w) {
            throw new IllegalArgumentException(where + ": window " + pl.k() + "x" + pl.k()
                + " is larger than its input " + shape);
          }
          Layer l = pl.max() ? new MaxPool2d(c, h, w, pl.k(), pl.stride(), at)
              : new AvgPool2d(c, h, w, pl.k(), pl.stride(), at);
          layers.add(l);
          h = (h - pl.k()) / pl.stride() + 1;
          w = (w - pl.k()) / pl.stride() + 1;
      } else if (it instanceof Full d) {
          long in = (long) c * h * w;
          if (in > DenseChain.MAX_PARAMS) {
            throw new IllegalArgumentException(where + ": input of " + in + " units is too large");
          }
          long need = off + in * d.units() + d.units();
          if (need > DenseChain.MAX_PARAMS) {
            throw new IllegalArgumentException(where + ": the network has " + need + " parameters, more than the "
                + DenseChain.MAX_PARAMS + " one float32 buffer can hold");
          }
          Dense l = new Dense((int) in, d.units(), at, true);
          layers.add(l);
          off += (long) l.paramSize();
          c = d.units();
          h = 1;
          w = 1;
          flat = true;
      } else if (it instanceof Res r) {
        List<Layer> f = new ArrayList<>();
        int c0 = c;
        int h0 = h;
        int w0 = w;
        for (int j = 0; j < r.f().size(); j++) {
          boolean hidden = j < r.f().size() - 1; // F's last layer is linear: the ReLU comes after the addition
          Item fi = r.f().get(j);
          int fat = (int) Math.min(off, Integer.MAX_VALUE);
          if (fi instanceof Conv cv) {
            if (flat) {
              throw new IllegalArgumentException(where + " needs an image input for '" + cv + "' but gets " + shape);
            }
            if (h + 2 * cv.pad() < cv.kh() || w + 2 * cv.pad() < cv.kw()) {
              throw new IllegalArgumentException(where + ": kernel " + cv.kh() + "x" + cv.kw() + " of '" + cv
                  + "' is larger than its input " + c + "x" + h + "x" + w + " padded");
            }
            if (off + (long) cv.filters() * c * cv.kh() * cv.kw() + cv.filters() > DenseChain.MAX_PARAMS) {
              throw new IllegalArgumentException(where + ": more parameters than one float32 buffer can hold");
            }
            Conv2d l = new Conv2d(c, h, w, cv.filters(), cv.kh(), cv.kw(), cv.stride(), cv.pad(), fat, hidden);
            f.add(l);
            off += l.paramSize();
            c = cv.filters();
            h = l.outHeight();
            w = l.outWidth();
          } else {
            Full d = (Full) fi;
            long in = (long) c * h * w;
            if (off + in * d.units() + d.units() > DenseChain.MAX_PARAMS) {
              throw new IllegalArgumentException(where + ": more parameters than one float32 buffer can hold");
            }
            Dense l = new Dense((int) in, d.units(), fat, hidden);
            f.add(l);
            off += l.paramSize();
            c = d.units();
            h = 1;
            w = 1;
            flat = true;
          }
        }
        Layer proj = null;
        if (r.proj()) {
          int pat = (int) Math.min(off, Integer.MAX_VALUE);
          long in0 = (long) c0 * h0 * w0;
          if (flat) { // F ends dense: a dense projection from the block's input, read as a vector
            if (off + in0 * c + c > DenseChain.MAX_PARAMS) {
              throw new IllegalArgumentException(where + ": more parameters than one float32 buffer can hold");
            }
            proj = new Dense((int) in0, c, pat, false);
          } else { // a 1x1 convolution with the stride that gives F's output size
            int s = h0 == 1 ? 1 : (h0 - 1) / Math.max(1, h - 1);
            int sw = w0 == 1 ? 1 : (w0 - 1) / Math.max(1, w - 1);
            s = h == 1 ? Math.max(h0, 1) : s;
            sw = w == 1 ? Math.max(w0, 1) : sw;
            if (s != sw || s < 1 || (h0 - 1) / s + 1 != h || (w0 - 1) / s + 1 != w) {
              throw new IllegalArgumentException(where + ": F maps " + shape + " to " + c + "x" + h + "x" + w
                  + "; no 1x1 convolution with one stride maps " + h0 + "x" + w0 + " to " + h + "x" + w);
            }
            if (off + (long) c * c0 + c > DenseChain.MAX_PARAMS) {
              throw new IllegalArgumentException(where + ": more parameters than one float32 buffer can hold");
            }
            proj = new Conv2d(c0, h0, w0, c, 1, 1, s, 0, pat, false);
          }
          off += proj.paramSize();
        } else if ((long) c * h * w != (long) c0 * h0 * w0 || (!flat && (c != c0 || h != h0 || w != w0))) {
          throw new IllegalArgumentException(where + ": F maps " + shape + " to " + (flat ? "a vector of "
              + ((long) c * h * w) : c + "x" + h + "x" + w) + "; an identity skip needs the same shape (a shape "
              + "change needs a projection skip, res(...,proj))");
        }
        layers.add(new Residual(f, proj));
      } else {
        flat = true; // flatten
      }
      if (off > DenseChain.MAX_PARAMS) {
        throw new IllegalArgumentException(where + ": the network has " + off + " parameters, more than the "
            + DenseChain.MAX_PARAMS + " one float32 buffer can hold");
      }
    }
    long in = (long) c * h * w;
    if (off + in * classes + classes > DenseChain.MAX_PARAMS) {
      throw new IllegalArgumentException("layers: the network has " + (off + in * classes + classes) + " parameters, "
          + "more than the " + DenseChain.MAX_PARAMS + " one float32 buffer can hold");
    }
    Dense out = new Dense((int) in, classes, (int) off, false);
    off += out.paramSize();
    if (off > DenseChain.MAX_PARAMS) {
      throw new IllegalArgumentException("layers: the network has " + off + " parameters, more than the "
          + DenseChain.MAX_PARAMS + " one float32 buffer can hold");
    }
    layers.add(out);
    return new LayerNet(layers, new Tensor((int) off), this, new int[] {channels, height, width});
  }
}
