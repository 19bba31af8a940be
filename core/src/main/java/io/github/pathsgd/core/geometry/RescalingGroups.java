package io.github.pathsgd.core.geometry;

import io.github.pathsgd.core.nn.Graph;
import io.github.pathsgd.core.nn.Layer;
import io.github.pathsgd.core.nn.Op;
import io.github.pathsgd.core.nn.ParamSlice;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one model of node rescaling: which units of a network rescale together, and how a rescaling is drawn and
 * applied, for every network (fully connected, convolutional, residual). Each op of the network's graph declares which
 * of its inputs' channels are tied to its output's ({@code Op.tiedInputs()}, the same ties as {@code
 * Graph.tieGroups()}); the groups are the connected components of the tie edges:
 *
 * <ul>
 *   <li>a hidden dense or conv layer behind a ReLU starts one group per output channel (a dense layer's unit, a
 *       convolution's filter: all positions of a channel share its filter, so the rescaling that keeps the weights
 *       shared moves the whole channel, docs/conv-geometry.md);
 *   <li>pooling passes a channel through (average pooling is linear, max(c·x) = c·max(x)): same group;
 *   <li>an identity skip y = ReLU(x + F(x)) ties output channel ch to input channel ch (the fixed weight 1 stays 1):
 *       same group, which then also holds the weights into ch of F's last (linear) layer; F's hidden units are groups
 *       of their own;
 *   <li>a projection skip y = ReLU(P·x + F(x)) ties nothing across it (P's weights are parameters): x's channels are
 *       a group read by F's first layer and by P; y's channel ch is a group of its own, P's row ch with F's last
 *       layer's row ch, whose family is named after F's last layer (the first layer with parameters writing it).
 * </ul>
 *
 * A group is one channel ch of a <em>family</em>: a component of tied nodes behind a ReLU that holds neither the
 * input nor the logits, named after its <em>producer</em>, the first layer with parameters (in the graph's order)
 * writing into it. Its incoming layers are the layers of the ops writing into it, its readers the layers of the ops
 * reading it ({@code Op.layer()} reads the op's input 0). Rescaling group (family, ch) by c &gt; 0 multiplies the parameters in its
 * incoming ranges by c (row ch of the producer's weight and its bias, and of each tied block's F's last layer) and
 * those in its outgoing ranges by 1/c (the weights reading channel ch: of each tied block's F's first layer and of
 * the layer with parameters that reads the group last). Since ReLU(c·z) = c·ReLU(z), the network function and every
 * φ_p are unchanged (Neyshabur, Salakhutdinov and Srebro, "Path-SGD", NIPS 2015, §2). A family whose units reach the
 * network's outputs (a residual block as the last layer) cannot be rescaled and is not listed; units tied to the
 * network's inputs (a residual block as the first layer) belong to no family.
 *
 * <p>Families are addressed by the producer's <em>flat index</em>: the position of the layer in the network's layers
 * with each block's inner layers in place of the block (block k with an F of n layers takes flat indices k..k+n−1 and
 * shifts the later ones by n−1; a projection skip takes one more, after F's): the order of the graph's ops that run a
 * layer. On a network without blocks that is its index in the list of layers; on a fully
 * connected network, flat index k is hidden layer k + 1 of {@link Rescaling}.
 *
 * <p>The unbalanced initialization ({@link #unbalance}) draws exactly as the paper's ([PS] §5) did before this class
 * joined the unit and channel versions: {@link Unbalance.PerLayer}: for each family in order, round(fraction·channels)
 * picks, each {@code rng.nextInt(channels)} then {@code rng.nextGaussian()}; {@link Unbalance.Total}: {@code count}
 * picks, each {@code rng.nextInt(H)} over all H groups numbered family by family, then {@code rng.nextGaussian()}.
 * Factor s = 10·c or 10^c, c = exp(μ + σ·z). All picks are drawn first, then applied in draw order.
 */
public final class RescalingGroups {
  /**
   * The channels of one hidden layer behind a ReLU and every unit tied to them.
   *
   * @param flat the producer's flat index (see the class comment)
   * @param name the producer's name in model files and messages, e.g. {@code layers.0 (conv)}, {@code layers.1.f.0
   *     (dense)}
   * @param channels the number of groups in the family (channels or units)
   * @param incoming the layers whose row ch (every slice: weight row and bias) goes into the group: the producer, then
   *     each tied block's F's last layer
   * @param readers the layers whose weights read channel ch of {@code channels}: each tied block's F's first layer
   *     with parameters, then the layer that reads the group last
   * @param skips how many identity skips the group crosses (a projection skip's sum is not one: its units are P's
   *     and F's outputs)
   */
  public record Family(int flat, String name, int channels, List<Layer> incoming, List<Layer> readers, int skips) {
    /** The producer's tensor prefix in model files, {@code layers.i} or {@code layers.i.f.j}: the name without kind. */
    public String tensors() {
      int at = name.indexOf(' ');
      return at < 0 ? name : name.substring(0, at);
    }
  }

  private final List<Family> families = new ArrayList<>();
  private final int flatCount;
  private final String[] flatNames;
  private final String[] flatTies; // why a flat index is not a family (null where it is one)

  private RescalingGroups(List<Layer> layers) {
    List<String> names = new ArrayList<>();
    name(layers, "layers.", names);
    List<Op> ops = Graph.expand(layers);
    int nodes = ops.size() + 1;
    int[] group = Graph.tieGroups(ops);
    // the flat index of each op that runs a layer (-1: a fixed op, add or relu)
    int[] flatOf = new int[ops.size()];
    int flats = 0;
    for (int k = 0; k < ops.size(); k++) {
      flatOf[k] = ops.get(k).layer() == null ? -1 : flats++;
    }
    if (flats != names.size()) {
      throw new IllegalStateException("the graph has " + flats + " layers, the names " + names.size());
    }
    this.flatCount = flats;
    this.flatNames = names.toArray(String[]::new);
    this.flatTies = new String[flats];
    Family[] familyOf = new Family[nodes]; // by the group's root node, once made
    int[] reads = new int[nodes]; // how many ops read each node: an identity skip's x is read by F and the add
    for (Op op : ops) {
      for (int n : op.inputs()) {
        reads[n]++;
      }
    }
    for (int k = 0; k < ops.size(); k++) {
      Op op = ops.get(k);
      if (op.layer() == null) {
        continue;
      }
      int flat = flatOf[k];
      int root = group[k + 1];
      int members = 0;
      boolean relu = false;
      for (int n = 0; n < nodes; n++) {
        if (group[n] == root) {
          members++;
          relu |= n > 0 && ops.get(n - 1).relu();
        }
      }
      if (op.params().isEmpty()) {
        flatTies[flat] = "has no parameters: its channels are those of the layer before it";
        continue;
      }
      String inner = "is linear: its outputs are tied to its block's input units by the identity skip and rescale "
          + "with them, through the layer before the block";
      if (!relu) {
        flatTies[flat] = members == 1 ? "is linear: its outputs cannot be rescaled" : inner;
        continue;
      }
      Family made = familyOf[root];
      if (made != null && !ops.get(opOf(flatOf, made.flat())).relu()) {
        // a linear layer beside another linear layer into one addition: a projection skip and F's last layer
        flatTies[flat] = "is linear: its outputs are added to those of " + made.name() + " and rescale with them, "
            + "as its group";
        continue;
      }
      if (made != null || group[0] == root) { // written first by a layer before, or tied to the inputs
        flatTies[flat] = !op.relu() ? inner : made != null ? "rescales with the group of " + made.name()
            : "is tied by identity skips to the network's inputs, which cannot be rescaled";
        continue;
      }
      if (group[nodes - 1] == root) {
        familyOf[root] = new Family(flat, flatNames[flat], 0, List.of(), List.of(), 0); // listed nowhere
        flatTies[flat] = "is tied by identity skips to the network's outputs, which cannot be rescaled";
        continue;
      }
      // the group: every node of the component; in, the layers writing into it; readers, the layers reading it
      List<Layer> in = new ArrayList<>();
      List<Layer> readers = new ArrayList<>();
      int skips = 0;
      for (int j = 0; j < ops.size(); j++) {
        Op o = ops.get(j);
        if (group[j + 1] == root) {
          for (int t : o.tiedInputs()) { // an addition's input that also feeds F: the x of an identity skip
            skips += o.tiedInputs().length > 1 && reads[o.inputs()[t]] > 1 ? 1 : 0;
          }
          if (o.layer() != null && !o.params().isEmpty()) {
            in.add(o.layer());
          }
        }
        if (o.layer() != null && !o.params().isEmpty() && group[o.inputs()[0]] == root) {
          readers.add(o.layer());
        }
      }
      familyOf[root] = new Family(flat, flatNames[flat], channels(op.layer()), List.copyOf(in), List.copyOf(readers),
          skips);
      families.add(familyOf[root]);
    }
  }

  private static int opOf(int[] flatOf, int flat) {
    for (int k = 0; k < flatOf.length; k++) {
      if (flatOf[k] == flat) {
        return k;
      }
    }
    throw new IllegalStateException("no op at flat index " + flat);
  }

  /** The groups of a network given by its layers ({@code Network.layers()}): from the ties of its graph's ops. */
  public static RescalingGroups of(List<Layer> layers) {
    return new RescalingGroups(layers);
  }

  /** The families in flat order (the order of the draws). */
  public List<Family> families() {
    return families;
  }

  /** The number of flat indices: the length of a factor array f[flat][ch]. */
  public int flatCount() {
    return flatCount;
  }

  /** The name of the layer at flat index {@code flat} in model files and messages, e.g. {@code layers.1.f.0 (dense)}. */
  public String name(int flat) {
    return flatNames[flat];
  }

  /** The flat indices of the families, in order. */
  public int[] hidden() {
    return families.stream().mapToInt(Family::flat).toArray();
  }

  /** The family whose producer has flat index {@code flat}; refuses one that is not a family, saying why. */
  public Family family(int flat) {
    if (flat < 0 || flat >= flatCount) {
      throw new IllegalArgumentException("layer " + flat + " outside the network's " + flatCount + " layers");
    }
    for (Family f : families) {
      if (f.flat() == flat) {
        return f;
      }
    }
    throw new IllegalArgumentException("layer " + flat + ", " + flatNames[flat] + ", " + flatTies[flat]
        + " (hidden: " + Arrays.toString(hidden()) + ")");
  }

  /** The names of the layers in flat order: {@code layers.i (kind)}, a block's inner layers {@code layers.i.f.j}. */
  private static void name(List<Layer> ls, String prefix, List<String> names) {
    int param = 0;
    for (Layer l : ls) {
      boolean block = !l.inner().isEmpty();
      String name = l.paramSize() == 0 ? l.kind() + " before " + prefix + param
          : prefix + param + (block ? "" : " (" + l.kind() + ")");
      if (l.paramSize() > 0) {
        param++;
      }
      if (block) {
        name(l.inner(), name + ".f.", names);
        if (l.skip() != null) {
          names.add(name + ".proj (" + l.skip().kind() + ")");
        }
      } else {
        names.add(name);
      }
    }
  }

  /** The channels of a layer with parameters: a convolution's filters, a dense layer's units. */
  public static int channels(Layer l) {
    if (l.paramSlices().isEmpty()) {
      throw new IllegalArgumentException(l.kind() + " has no channels to rescale");
    }
    return l.paramSlices().get(0).rows();
  }

  /**
   * The parameter ranges of group (family, ch): its incoming ranges (row ch of every slice of each incoming layer) to
   * {@code incoming}, the weights reading it to {@code outgoing}.
   */
  public static void forEachRange(Family fam, int ch, Layer.Ranges incoming, Layer.Ranges outgoing) {
    for (Layer l : fam.incoming()) {
      for (ParamSlice s : l.paramSlices()) {
        int row = s.size() / s.rows();
        incoming.accept(s.offset() + ch * row, row);
      }
      l.recurrentRanges(ch, outgoing); // a recurrent layer's W_rec column ch reads the group (W_rec[ch, ch] stays)
    }
    for (Layer r : fam.readers()) {
      r.inputChannelRanges(ch, fam.channels(), outgoing);
    }
  }

  /** Refuses a channel out of range or a factor that is not positive and finite. */
  public static void check(Family fam, int ch, double c) {
    if (ch < 0 || ch >= fam.channels()) {
      throw new IllegalArgumentException("channel " + ch + " outside " + fam.name() + " of " + fam.channels()
          + " channels");
    }
    RescalingCheck.checkFactor(c);
  }

  /**
   * Multiplies the incoming ranges of group (family, ch) by {@code in} and its outgoing ranges by {@code out}, in a
   * buffer of the parameter layout (the parameters, or an optimizer state's buffer); each product formed in double
   * and rounded once to float. A weight that is both (F's only layer, reading and writing the same channel) is
   * multiplied twice.
   */
  public static void scaleInOut(Family fam, FloatBuffer b, int ch, double in, double out) {
    forEachRange(fam, ch, (from, n) -> multiply(b, from, n, in), (from, n) -> multiply(b, from, n, out));
  }

  /** Rescales group (family at {@code flat}, ch) by c in place: incoming ×c, outgoing ×1/c. */
  public void scale(FloatBuffer params, int flat, int ch, double c) {
    Family fam = family(flat);
    check(fam, ch, c);
    scaleInOut(fam, params, ch, c, 1.0 / c);
  }

  /** One factor per group, {@code f[flat][ch]} for the families' flat indices (other rows ignored, may be null). */
  public void scaleAll(FloatBuffer params, double[][] f) {
    for (Family fam : families) {
      for (int ch = 0; ch < fam.channels(); ch++) {
        scale(params, fam.flat(), ch, f[fam.flat()][ch]);
      }
    }
  }

  private static void multiply(FloatBuffer b, int from, int n, double c) {
    for (int i = from; i < from + n; i++) {
      b.put(i, (float) (b.get(i) * c));
    }
  }

  /** How a refusal names a group in a message: {@code where(family, ch)}. */
  @FunctionalInterface
  public interface Namer {
    String where(Family fam, int ch);
  }

  /** The default naming: {@code layers.i (kind), channel ch (of n)}, plus the skips the group crosses. */
  public static final Namer CHANNELS = (fam, ch) -> fam.name() + ", channel " + ch + " (of " + fam.channels() + ")"
      + (fam.skips() > 0 ? " tied by " + fam.skips() + " identity skip" + (fam.skips() > 1 ? "s" : "") : "");

  /**
   * The unbalanced initialization, in place on {@code params}; see the class comment for the draws. Not checked:
   * see {@code unbalanceChecked} of {@link Rescaling} and {@link ChannelRescaling}.
   *
   * @param shift added to a family's flat index to give its row of the returned array: 0, or 1 for a fully connected
   *     network's f[l], l = 1..L−1 ({@link Rescaling})
   * @return the per-group products of the factors, {@code r[flat + shift][ch]} for the families (other rows null),
   *     of length {@link #flatCount()} + shift
   * @throws Rescaling.Refused if a drawn factor or a group's product is not a positive finite double; then nothing
   *     has been applied
   */
  public double[][] unbalance(FloatBuffer params, Unbalance opts, Rng rng, Namer namer, int shift) {
    double[][] f = new double[flatCount + shift][];
    long total = 0;
    for (Family fam : families) {
      f[fam.flat() + shift] = new double[fam.channels()];
      Arrays.fill(f[fam.flat() + shift], 1.0);
      total += fam.channels();
    }
    long n = 0;
    int[] perFamily = null;
    if (opts.density() instanceof Unbalance.PerLayer p) {
      perFamily = new int[families.size()];
      for (int i = 0; i < families.size(); i++) {
        Family fam = families.get(i);
        long k = Math.round(p.fraction() * fam.channels());
        if (k > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("unbalancing fraction " + p.fraction() + " asks for " + k + " picks in "
              + fam.name() + " of width " + fam.channels());
        }
        perFamily[i] = (int) k;
        n += k;
      }
    } else if (total > 0) {
      n = ((Unbalance.Total) opts.density()).count();
    }
    if (n > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("too many unbalancing picks: " + n);
    }
    Family[] pf = new Family[(int) n];
    int[] pc = new int[(int) n];
    double[] ps = new double[(int) n];
    int k = 0;
    if (perFamily != null) {
      for (int i = 0; i < families.size(); i++) {
        Family fam = families.get(i);
        for (int j = 0; j < perFamily[i]; j++, k++) {
          pf[k] = fam;
          pc[k] = rng.nextInt(fam.channels());
          ps[k] = draw(opts, rng, f[fam.flat() + shift], fam, pc[k], k, (int) n, namer, shift);
        }
      }
    } else {
      for (; k < n; k++) {
        int idx = rng.nextInt((int) total);
        int at = 0;
        while (idx >= families.get(at).channels()) {
          idx -= families.get(at).channels();
          at++;
        }
        Family fam = families.get(at);
        pf[k] = fam;
        pc[k] = idx;
        ps[k] = draw(opts, rng, f[fam.flat() + shift], fam, idx, k, (int) n, namer, shift);
      }
    }
    for (int j = 0; j < n; j++) {
      check(pf[j], pc[j], ps[j]);
      scaleInOut(pf[j], params, pc[j], ps[j], 1.0 / ps[j]);
    }
    return f;
  }

  /** One pick's factor s (one nextGaussian), multiplied into row[ch]; refuses a non-finite s or product. */
  private static double draw(Unbalance opts, Rng rng, double[] row, Family fam, int ch, int pick, int picks,
      Namer namer, int shift) {
    double c = Math.exp(opts.mu() + opts.sigma() * rng.nextGaussian());
    double s = opts.form().factor(c);
    double prod = row[ch] * s;
    if (!RescalingCheck.positiveFinite(s) || !RescalingCheck.positiveFinite(prod)) {
      String what = !RescalingCheck.positiveFinite(s) ? "factor " + Unbalance.num(s) + " (c = " + Unbalance.num(c)
          + ")" : "product of factors " + Unbalance.num(prod);
      throw new Rescaling.Refused(RescalingCheck.refused(opts) + "pick " + (pick + 1) + " of " + picks + " gives "
          + namer.where(fam, ch) + " a " + what + ", beyond the double range", fam.flat() + shift, ch, prod);
    }
    row[ch] = prod;
    return s;
  }
}
