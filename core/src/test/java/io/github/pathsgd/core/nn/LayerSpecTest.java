package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.pathsgd.testkit.Tries;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The {@code --layers} grammar: canonical text round trips, whitespace and defaults, refusals that name the token. */
class LayerSpecTest {
  /**
   * One item: conv, pool, dense or flatten with equal odds, its numbers uniform: filters 1..64, kernel sides 1..7,
   * conv stride 1..3, pad 0..3, pool window and stride 1..4, dense units 1..5000.
   */
  static LayerSpec.Item item(SplittableRandom r) {
    return switch (r.nextInt(4)) {
      case 0 -> new LayerSpec.Conv(r.nextInt(1, 65), r.nextInt(1, 8), r.nextInt(1, 8), r.nextInt(1, 4),
          r.nextInt(0, 4));
      case 1 -> new LayerSpec.Pool(r.nextBoolean(), r.nextInt(1, 5), r.nextInt(1, 5));
      case 2 -> new LayerSpec.Full(r.nextInt(1, 5001));
      default -> new LayerSpec.Flatten();
    };
  }

  /** Each item alone at its smallest and at its largest, and a list of six at the largest. */
  static List<List<LayerSpec.Item>> edges() {
    LayerSpec.Item[] small = {new LayerSpec.Conv(1, 1, 1, 1, 0), new LayerSpec.Pool(true, 1, 1),
      new LayerSpec.Pool(false, 1, 1), new LayerSpec.Full(1), new LayerSpec.Flatten()};
    LayerSpec.Item[] large = {new LayerSpec.Conv(64, 7, 7, 3, 3), new LayerSpec.Pool(true, 4, 4),
      new LayerSpec.Pool(false, 4, 4), new LayerSpec.Full(5000), new LayerSpec.Flatten()};
    List<List<LayerSpec.Item>> e = new ArrayList<>();
    for (LayerSpec.Item i : small) {
      e.add(List.of(i));
    }
    for (LayerSpec.Item i : large) {
      e.add(List.of(i));
    }
    e.add(List.of(large[0], large[1], large[2], large[3], large[4], large[0]));
    return e;
  }

  /** Shrink candidates: the list less one item, or one item replaced by the smallest of its kind. */
  static List<List<LayerSpec.Item>> smaller(List<LayerSpec.Item> items) {
    List<List<LayerSpec.Item>> s = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (items.size() > 1) {
        List<LayerSpec.Item> less = new ArrayList<>(items);
        less.remove(i);
        s.add(less);
      }
      LayerSpec.Item it = items.get(i);
      LayerSpec.Item least = it instanceof LayerSpec.Conv ? new LayerSpec.Conv(1, 1, 1, 1, 0)
          : it instanceof LayerSpec.Pool p ? new LayerSpec.Pool(p.max(), 1, 1)
          : it instanceof LayerSpec.Full ? new LayerSpec.Full(1) : it;
      if (!least.equals(it)) {
        List<LayerSpec.Item> simpler = new ArrayList<>(items);
        simpler.set(i, least);
        s.add(simpler);
      }
    }
    return s;
  }

  /** 300 lists of 1 to 6 items: the edge cases, then seeded random ones. */
  @Test
  void canonicalTextReadsBackToTheSameSpec() {
    Tries.forAll(300, 0x1A7E_0001L, edges(), r -> {
      List<LayerSpec.Item> items = new ArrayList<>();
      for (int n = r.nextInt(1, 7); items.size() < n; ) {
        items.add(item(r));
      }
      return items;
    }, LayerSpecTest::smaller, LayerSpecTest::canonicalTextReadsBack);
  }

  static void canonicalTextReadsBack(List<LayerSpec.Item> items) {
    StringBuilder sb = new StringBuilder();
    for (LayerSpec.Item i : items) {
      sb.append(sb.length() == 0 ? "" : ",").append(i);
    }
    LayerSpec s = LayerSpec.parse(sb.toString());
    assertThat(s.items()).isEqualTo(items);
    assertThat(LayerSpec.parse(s.toString())).isEqualTo(s);
    // spaces anywhere between the parts, and upper case, read the same
    assertThat(LayerSpec.parse(" " + sb.toString().replace(",", " , ").replace("(", " ( ").toUpperCase() + " "))
        .isEqualTo(s);
  }

  @Test
  void defaultsAndNonSquareKernels() {
    LayerSpec s = LayerSpec.parse("conv(8,3x5,stride=2),conv(4, 3, pad=1, stride=1),maxpool(2),avgpool(3,stride=1),"
        + "flatten(),dense(32)");
    assertThat(s.items()).containsExactly(new LayerSpec.Conv(8, 3, 5, 2, 0), new LayerSpec.Conv(4, 3, 3, 1, 1),
        new LayerSpec.Pool(true, 2, 2), new LayerSpec.Pool(false, 3, 1), new LayerSpec.Flatten(),
        new LayerSpec.Full(32));
    assertThat(s.toString()).isEqualTo("conv(8,3x5,stride=2),conv(4,3,pad=1),maxpool(2),avgpool(3,stride=1),flatten,"
        + "dense(32)");
  }

  @Test
  void refusalsNameTheTokenAndWhatWasExpected() {
    String[][] cases = {
      {"", "layers: empty list; expected e.g. conv(16,3,pad=1),avgpool(2),dense(128)"},
      {"conv(16)", "layers: 'conv(16)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as K or KHxKW"},
      {"conv(16,3,pad=-1)", "layers: 'conv(16,3,pad=-1)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as"
          + " K or KHxKW (pad '-1' is not a non-negative integer)"},
      {"conv(16,3,stride=0)", "layers: 'conv(16,3,stride=0)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), "
          + "KERNEL as K or KHxKW with stride >= 1"},
      {"conv(16,3,pad=1,pad=2)", "layers: 'conv(16,3,pad=1,pad=2)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P])"
          + ", KERNEL as K or KHxKW (pad given twice)"},
      {"conv(16,3,dilation=2)", "layers: 'conv(16,3,dilation=2)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), "
          + "KERNEL as K or KHxKW ('dilation=2' is not one of stride=, pad=)"},
      {"conv(16,3x)", "layers: 'conv(16,3x)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as K or KHxKW "
          + "(KERNEL '3x')"},
      {"conv(0,3)", "layers: 'conv(0,3)': expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as K or KHxKW "
          + "with FILTERS >= 1"},
      {"dense(32),", "layers: empty item at position 2 of 'dense(32),'; expected NAME(ARGS) items separated by "
          + "commas"},
      {"dense(32", "layers: unclosed '(' in 'dense(32'; expected NAME(ARGS) items separated by commas"},
      {"dense(3,2)", "layers: 'dense(3,2)': expected dense(UNITS)"},
      {"dense(1.5)", "layers: 'dense(1.5)': expected dense(UNITS) (UNITS '1.5' is not a non-negative integer)"},
      {"relu", "layers: 'relu': expected one of conv, avgpool, maxpool, dense, flatten, res, rnn (not 'relu')"},
      {"maxpool()", "layers: 'maxpool()': expected maxpool(K[,stride=S])"},
      {"flatten(1)", "layers: 'flatten(1)': expected flatten or flatten() (no arguments)"},
      {"dense(32)x", "layers: 'dense(32)x': expected NAME(ARGS) with NAME one of conv, avgpool, maxpool, dense, "
          + "flatten, res, rnn"},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> LayerSpec.parse(c[0])).as(c[0]).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(c[1]);
    }
  }

  /** Issue 23: a number too large for the grammar is called too large (it is a non-negative integer). */
  @Test
  void numbersPastTheBoundAreNamedWithTheBound() {
    String usage = "expected conv(FILTERS,KERNEL[,stride=S][,pad=P]), KERNEL as K or KHxKW";
    assertThatThrownBy(() -> LayerSpec.parse("conv(2147483647,3)")).hasMessage("layers: 'conv(2147483647,3)': "
        + usage + " with FILTERS at most 999999999 (got 2147483647)");
    assertThatThrownBy(() -> LayerSpec.parse("conv(8,3,pad=99999999999999999999)")).hasMessage("layers: "
        + "'conv(8,3,pad=99999999999999999999)': " + usage + " with pad at most 999999999 (got 99999999999999999999)");
    assertThatThrownBy(() -> LayerSpec.parse("dense(" + "9".repeat(40) + ")")).hasMessageEndingWith(
        "expected dense(UNITS) with UNITS at most 999999999 (got " + "9".repeat(30) + "..., 40 digits)");
    // leading zeros are not digits of the value; the bound itself is accepted
    assertThat(LayerSpec.parse("dense(0000000000032)").items()).containsExactly(new LayerSpec.Full(32));
    assertThat(LayerSpec.parse("dense(999999999)").items()).containsExactly(new LayerSpec.Full(999_999_999));
  }

  /** Issue 23: a list of 200,000 items is refused by its count, before any item is parsed. */
  @Test
  void moreItemsThanTheBoundAreRefusedByCount() {
    String many = String.join(",", java.util.Collections.nCopies(200_000, "dense(8)"));
    assertThatThrownBy(() -> LayerSpec.parse(many)).hasMessage("layers: expected at most 1000 items, got 200000");
    assertThat(LayerSpec.parse(String.join(",", java.util.Collections.nCopies(LayerSpec.MAX_LAYERS, "dense(2)")))
        .items()).hasSize(1000);
  }

  @Test
  void shapesThatDoNotFitAreRefusedNamingTheLayer() {
    assertThatThrownBy(() -> LayerSpec.parse("conv(4,3),maxpool(2),conv(8,7)").build(1, 10, 10, 10))
        .hasMessage("layers: layer 3 'conv(8,7)': kernel 7x7 is larger than its input 4x4x4 padded to 4x4");
    assertThatThrownBy(() -> LayerSpec.parse("maxpool(3)").build(3, 2, 8, 10))
        .hasMessage("layers: layer 1 'maxpool(3)': window 3x3 is larger than its input 3x2x8");
    assertThatThrownBy(() -> LayerSpec.parse("dense(10),conv(2,1)").build(1, 4, 4, 10))
        .hasMessage("layers: layer 2 'conv(2,1)' needs an image input but gets a vector of 10 (no conv or pooling "
            + "after dense or flatten)");
    assertThatThrownBy(() -> LayerSpec.parse("flatten,avgpool(1)").build(1, 4, 4, 10))
        .hasMessageStartingWith("layers: layer 2 'avgpool(1)' needs an image input");
    assertThatThrownBy(() -> LayerSpec.parse("dense(100000),dense(100000)").build(1, 4, 4, 10))
        .hasMessageContaining("layers: layer 2 'dense(100000)': the network has");
  }

  @Test
  void buildOffsetsTileTheParameterVector() {
    LayerNet n = LayerSpec.parse("conv(16,3,pad=1),avgpool(2),conv(32,3,pad=1),maxpool(2),dense(128)")
        .build(3, 32, 32, 10);
    List<Integer> ends = new ArrayList<>();
    int at = 0;
    for (Layer l : n.layers()) {
      assertThat(l.paramOffset()).isEqualTo(at);
      at += l.paramSize();
      ends.add(at);
    }
    assertThat(at).isEqualTo(n.params().size()).isEqualTo(16 * 27 + 16 + 32 * 144 + 32 + 128 * 2048 + 128
        + 10 * 128 + 10);
    assertThat(n.inputShape()).containsExactly(3, 32, 32);
    assertThat(n.outputs()).isEqualTo(10);
  }
}
