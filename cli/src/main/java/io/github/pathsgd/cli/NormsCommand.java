package io.github.pathsgd.cli;

import io.github.pathsgd.core.geometry.GroupNorms;
import io.github.pathsgd.core.geometry.ModelNorms;
import io.github.pathsgd.core.geometry.PathNorms;
import io.github.pathsgd.core.nn.DenseChain;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.LayerNet;
import io.github.pathsgd.core.nn.Network;
import io.github.pathsgd.model.SafeTensors;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pathsgd norms MODEL}: path norms, group norms and per-layer statistics of a saved network. */
@Command(name = "norms", mixinStandardHelpOptions = true,
    description = {"Path norms, group norms and per-layer statistics of a saved model.",
      "Prints φ_1, φ_2, φ_∞, the group norms (ℓ1, ℓ2 = weight decay, per-unit max-norm μ_{2,∞}) and per-layer",
      "statistics (Frobenius and spectral norm, mean and max |w|) of a model in safetensors format.",
      "Biases count as edges from a constant-1 unit (use --no-biases to leave them out of φ and μ).",
      "Conv models: φ_p over the unrolled edges (each shared weight once per edge it labels, max pooling",
      "as in the path-norm toolkit: docs/conv-geometry.md); group norms and per-layer statistics count",
      "each parameter once; a convolution's spectral norm is its operator norm on the layer's input size."})
final class NormsCommand implements Callable<Integer> {
  /**
   * Why a network with an rnn layer has no spectral norm product: its W_rec acts once per time step, so the product of
   * one norm per layer is not a bound of anything defined for it (docs/rnn.md).
   */
  static final String RNN_SPECTRAL = "left out for a network with an rnn layer (W_rec acts at every time step, so one "
      + "spectral norm per layer bounds nothing; the tensors' own spectral norms are listed below)";

  @Parameters(paramLabel = "MODEL", description = "a .safetensors file written by 'pathsgd train --save-model'")
  Path model;

  @Option(names = "--json", description = "print a JSON object instead of a table")
  boolean json;

  @Option(names = "--no-biases", description = "leave the biases out of the path and group norms")
  boolean noBiases;

  @Option(names = "--allow-non-finite",
      description = "read a model with NaN or infinite weights (refused by default; its norms are then NaN or ∞)")
  boolean allowNonFinite;

  @Override
  public Integer call() throws Exception {
    io.github.pathsgd.data.InputFiles.requireRegular(model, "model"); // a FIFO would block, a device never end
    SafeTensors.Model read = SafeTensors.read(model, allowNonFinite);
    // a fully connected model gets the per-matrix table and the wide-range φ; any other the per-layer sweeps
    Map<String, Object> out = read.model().layout().denseChain() == null
        ? compute(read.model(), !noBiases, read.metadata()) : compute(read.network(), !noBiases);
    if (json) {
      System.out.println(io.github.pathsgd.experiments.config.Configs.json().writeValueAsString(out));
      return 0;
    }
    @SuppressWarnings("unchecked")
    Map<String, Number> path = (Map<String, Number>) out.get("path_norm");
    @SuppressWarnings("unchecked")
    Map<String, Double> group = (Map<String, Double>) out.get("group_norms");
    System.out.println("model " + model + ": " + out.get("architecture") + ", " + out.get("parameters")
        + " parameters, biases " + (noBiases ? "excluded" : "included"));
    System.out.printf(Locale.ROOT, "path norm  φ_1 = %.6g   φ_2 = %.6g   φ_∞ = %.6g%n", path.get("1"), path.get("2"),
        path.get("inf"));
    System.out.printf(Locale.ROOT, "group norm ℓ1 = %.6g   ℓ2 = %.6g   max-norm μ_{2,∞} = %.6g%n", group.get("l1"),
        group.get("l2"), group.get("max_norm"));
    @SuppressWarnings("unchecked")
    Map<String, Object> metrics = (Map<String, Object>) out.get("metrics");
    Object sp = metrics.get("spectral_norm_product");
    System.out.println(sp == null ? "spectral norm product Π‖W_l‖₂: " + RNN_SPECTRAL
        : "spectral norm product Π‖W_l‖₂ = " + (sp instanceof Double d ? String.format(Locale.ROOT, "%.6g", d) : sp));
    System.out.printf(Locale.ROOT, "%-6s %-12s %12s %12s %12s %12s%n", "layer", "shape", "frobenius", "spectral",
        "mean |w|", "max |w|");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> layers = (List<Map<String, Object>>) out.get("layers");
    for (Map<String, Object> l : layers) {
      System.out.printf(Locale.ROOT, "%-6s %-12s %12.6g %12s %12.6g %12.6g%n", l.get("layer"), l.get("shape"),
          l.get("frobenius"), l.get("spectral") == null ? "-" : String.format(Locale.ROOT, "%.6g", l.get("spectral")),
          l.get("mean_abs"), l.get("max_abs"));
    }
    return 0;
  }

  /**
   * φ_p as {@link PathNorms#phi} computes it in double where that is finite and non-zero; otherwise (a finite model
   * whose φ_p overflows or underflows the double range, for example many layers of weights near the float maximum)
   * as a {@link BigDecimal} of 7 significant digits from {@link #log2Phi}, so that the JSON output is a number, never
   * the string "Infinity" or "NaN", for every model with finite weights.
   */
  static Number phi(LayerNet net, double p, boolean biases) {
    double d = PathNorms.phi(net, p, biases);
    if (Double.isFinite(d) && d != 0) {
      return d;
    }
    double log2 = log2Phi(net, p, biases);
    if (Double.isNaN(log2)) {
      return d; // non-finite weights (only read with --allow-non-finite)
    }
    if (log2 == Double.NEGATIVE_INFINITY) {
      return 0.0;
    }
    return decimal(log2 * Math.log10(2));
  }

  /** 10^log10 as a {@link BigDecimal} of 7 significant digits (for numbers beyond the double range). */
  static BigDecimal decimal(double log10) {
    double exp = Math.floor(log10);
    double mant = Math.pow(10, log10 - exp);
    return new BigDecimal(mant).round(new MathContext(7)).scaleByPowerOfTen((int) exp).stripTrailingZeros();
  }

  /**
   * log2 φ_p (p = 1, 2 or ∞) by the γ_in dynamic program of {@link PathNorms} in block floating point: each layer's
   * γ_in is kept as doubles times one power of two 2^e (e a long), renormalized after every layer, so that no finite
   * model overflows or underflows; a unit whose γ_in is below 2^-1074 of its layer's largest is dropped. -∞ for φ_p =
   * 0, NaN if a weight is not finite.
   */
  static double log2Phi(LayerNet net, double p, boolean biases) {
    if (!(p == 1 || p == 2 || Double.isInfinite(p))) {
      throw new IllegalArgumentException("log2Phi: p must be 1, 2 or infinity, got " + p);
    }
    boolean inf = Double.isInfinite(p);
    DenseChain lay = net.chain();
    FloatBuffer w = net.params().buffer();
    double[] m = new double[lay.inputs()];
    java.util.Arrays.fill(m, 1.0);
    long e = 0; // γ_in of the current layer = m · 2^e
    for (int l = 0; l < lay.layers(); l++) {
      int in = lay.in(l);
      int out = lay.out(l);
      double[] val = new double[out];
      long[] ex = new long[out];
      long top = Long.MIN_VALUE;
      for (int o = 0; o < out; o++) {
        double a = 0; // Σ (or max) |w|^p m_i, at scale 2^e; at most 2^31 · (2^128)^2: no overflow
        int row = lay.weightOffset(l) + o * in;
        for (int i = 0; i < in; i++) {
          double x = Math.abs((double) w.get(row + i));
          double t = (p == 2 ? x * x : x) * m[i];
          a = inf ? Math.max(a, t) : a + t;
        }
        double x = biases ? Math.abs((double) w.get(lay.biasOffset(l) + o)) : 0;
        double b = p == 2 ? x * x : x; // at scale 2^0
        if (Double.isNaN(a) || Double.isNaN(b) || Double.isInfinite(a) || Double.isInfinite(b)) {
          return Double.NaN;
        }
        if (a == 0 && b == 0) {
          continue;
        }
        long ea = a == 0 ? Long.MIN_VALUE / 2 : Math.getExponent(a) + e;
        long eb = b == 0 ? Long.MIN_VALUE / 2 : Math.getExponent(b);
        long t = Math.max(ea, eb);
        double sa = a == 0 ? 0 : Math.scalb(a, clamp(e - t));
        double sb = b == 0 ? 0 : Math.scalb(b, clamp(-t));
        val[o] = inf ? Math.max(sa, sb) : sa + sb;
        ex[o] = t;
        top = Math.max(top, t);
      }
      if (top == Long.MIN_VALUE) {
        return Double.NEGATIVE_INFINITY; // every γ_in of this layer is 0
      }
      for (int o = 0; o < out; o++) {
        val[o] = val[o] == 0 ? 0 : Math.scalb(val[o], clamp(ex[o] - top));
      }
      m = val;
      e = top;
    }
    double s = 0;
    for (double v : m) {
      s = inf ? Math.max(s, v) : s + v;
    }
    double log2 = Math.log(s) / Math.log(2) + e;
    return inf ? log2 : log2 / p;
  }

  private static int clamp(long k) {
    return (int) Math.max(-4000, Math.min(4000, k));
  }

  /**
   * The norms of a network of layers: φ_1, φ_2, φ_∞ by the layers' γ sweeps ({@link PathNorms}); ℓ1 = Σ|θ|, ℓ2 =
   * (Σθ²)^{1/2} and the max-norm (the largest ℓ2 norm of one filter's or unit's incoming weights, bias included when
   * {@code biases}) over the parameters, each shared weight once; per layer with parameters (i as in the model file)
   * its shape, Frobenius norm, mean and max |w| of the weights.
   */
  static Map<String, Object> compute(Network net, boolean biases, Map<String, String> meta) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("architecture", meta.get(SafeTensors.LAYERS) + " on " + meta.get(SafeTensors.INPUT_SHAPE).replace(',', 'x')
        + ", " + net.outputs() + " outputs");
    out.put("parameters", net.params().size());
    out.put("biases_included", biases);
    Map<String, Number> path = new LinkedHashMap<>();
    path.put("1", PathNorms.phi(net.layers(), net.params(), 1, biases));
    path.put("2", PathNorms.phi(net.layers(), net.params(), 2, biases));
    path.put("inf", PathNorms.phi(net.layers(), net.params(), Double.POSITIVE_INFINITY, biases));
    out.put("path_norm", path);
    double l1 = 0;
    double l2 = 0;
    double maxNorm = 0;
    List<Map<String, Object>> layers = new ArrayList<>();
    FloatBuffer w = net.params().buffer();
    int i = 0;
    for (Layer l : net.layers()) {
      if (l.paramSize() == 0) {
        continue;
      }
      List<Layer> parts = l.parts(); // one per group of weights and their bias: the layer, or a block's inner layers
      List<io.github.pathsgd.core.nn.ParamSlice> slices = l.paramSlices();
      for (int q = 0, from = 0, s = 0; s < slices.size(); s++) {
        if (slices.get(s).fanIn() != 0) {
          continue; // a weight of the group; the group ends at its bias (an rnn: W_in and W_rec, then b)
        }
        Layer part = parts.get(q++);
        int units = slices.get(s).rows();
        int n = s - from;
        double[] fro = new double[n];
        double[] sum = new double[n];
        double[] max = new double[n];
        for (int u = 0; u < units; u++) {
          double unit = 0;
          for (int g = 0; g < n; g++) {
            io.github.pathsgd.core.nn.ParamSlice weight = slices.get(from + g);
            int fan = weight.fanIn();
            int off = weight.offset();
            for (int j = 0; j < fan; j++) {
              double a = Math.abs((double) w.get(off + u * fan + j));
              fro[g] += a * a;
              sum[g] += a;
              max[g] = Math.max(max[g], a);
              unit += a * a;
            }
          }
          double b = Math.abs((double) w.get(slices.get(s).offset() + u));
          unit += biases ? b * b : 0;
          maxNorm = Math.max(maxNorm, Math.sqrt(unit));
          l1 += biases ? b : 0;
          l2 += biases ? b * b : 0;
        }
        for (int g = 0; g < n; g++) {
          io.github.pathsgd.core.nn.ParamSlice weight = slices.get(from + g);
          String name = weight.name(); // "weight", "f.0.weight" inside a block, "weight_ih_l0" of an rnn
          l1 += sum[g];
          l2 += fro[g];
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("layer", name.equals("weight") ? (Object) i : name.endsWith(".weight") ? i + "." + name.substring(0,
              name.length() - 7) : i + "." + name);
          m.put("kind", part.kind());
          m.put("shape", weight.shapeText());
          m.put("frobenius", Math.sqrt(fro[g]));
          // a conv's operator norm; of a group of several weights (an rnn's), each one's own matrix
          m.put("spectral", n == 1 ? part.spectralNorm(w) : io.github.pathsgd.core.tensor.SpectralNorm.of(w,
              weight.offset(), weight.rows(), weight.fanIn()));
          m.put("mean_abs", sum[g] / ((double) units * weight.fanIn()));
          m.put("max_abs", max[g]);
          layers.add(m);
        }
        from = s + 1;
      }
      i++;
    }
    Map<String, Double> group = new LinkedHashMap<>();
    group.put("l1", l1);
    group.put("l2", Math.sqrt(l2));
    group.put("max_norm", maxNorm);
    out.put("group_norms", group);
    out.put("layers", layers);
    // the six measures as a run's metrics.csv records them (split model; biases included): one implementation
    Map<String, Object> metrics = new LinkedHashMap<>();
    double[] v = ModelNorms.of(net).values();
    for (int k = 0; k < v.length; k++) {
      // a layer that declares no spectral norm (NaN: an rnn layer, Layer#spectralNorm) leaves the product undefined
      if (ModelNorms.NAMES.get(k).equals("spectral_norm_product") && Double.isNaN(v[k]) && net.layers().stream()
          .anyMatch(l -> !l.paramSlices().isEmpty() && Double.isNaN(l.spectralNorm(net.params().buffer())))) {
        metrics.put(ModelNorms.NAMES.get(k), null); // left out, with the reason
        metrics.put("spectral_norm_product_note", RNN_SPECTRAL);
        continue;
      }
      metrics.put(ModelNorms.NAMES.get(k), Double.isFinite(v[k]) ? v[k] : String.valueOf(v[k]));
    }
    out.put("metrics", metrics);
    return out;
  }

  static Map<String, Object> compute(LayerNet net, boolean biases) {
    DenseChain lay = net.chain();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("architecture", lay.toString());
    out.put("parameters", lay.size());
    out.put("biases_included", biases);
    Map<String, Number> path = new LinkedHashMap<>();
    path.put("1", phi(net, 1, biases));
    path.put("2", phi(net, 2, biases));
    path.put("inf", phi(net, Double.POSITIVE_INFINITY, biases));
    out.put("path_norm", path);
    Map<String, Double> group = new LinkedHashMap<>();
    group.put("l1", GroupNorms.l1(net, biases));
    group.put("l2", GroupNorms.l2(net, biases));
    group.put("max_norm", GroupNorms.maxNorm(net, biases));
    out.put("group_norms", group);
    List<Map<String, Object>> layers = new ArrayList<>();
    for (int l = 0; l < lay.layers(); l++) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("layer", l);
      m.put("shape", lay.out(l) + "x" + lay.in(l));
      m.put("frobenius", GroupNorms.frobenius(net, l));
      m.put("spectral", GroupNorms.spectral(net, l));
      double sum = 0;
      double max = 0;
      int off = lay.weightOffset(l);
      for (int i = 0; i < lay.weightSize(l); i++) {
        double a = Math.abs(net.params().get(off + i));
        sum += a;
        max = Math.max(max, a);
      }
      m.put("mean_abs", sum / lay.weightSize(l));
      m.put("max_abs", max);
      layers.add(m);
    }
    out.put("layers", layers);
    // the six measures as a run's metrics.csv records them (split model; biases included): one implementation
    Map<String, Object> metrics = new LinkedHashMap<>();
    ModelNorms n = ModelNorms.of(net);
    double[] v = n.values();
    double[] ps = {1, 2, Double.POSITIVE_INFINITY};
    for (int i = 0; i < v.length; i++) {
      Object x = v[i];
      if (!Double.isFinite(v[i]) && i < 3) {
        x = phi(net, ps[i], true); // beyond the double range: the extended-range number, as path_norm prints it
      } else if (!Double.isFinite(v[i]) && i == 5) {
        double log10 = 0;
        for (int l = 0; l < lay.layers(); l++) {
          log10 += Math.log10(GroupNorms.spectral(net, l));
        }
        x = Double.isFinite(log10) ? decimal(log10) : v[i];
      }
      metrics.put(ModelNorms.NAMES.get(i), x);
    }
    out.put("metrics", metrics);
    return out;
  }
}
