package io.github.pathsgd.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.pathsgd.core.tensor.Tensor;
import io.github.pathsgd.core.util.Rng;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast kernel paths of {@link Conv2d} and the pooling layers against the straightforward ones: GEMMs over chunks of
 * images against one GEMM per image, the γ sweeps and κ (double GEMMs) against the direct loops over the unrolled
 * edges, and max
 * pooling's branch-free 2 × 2 path against a first-maximum oracle with ties.
 */
class ConvKernelsTest {
  private static Tensor random(int n, Random r, double scale) {
    Tensor t = new Tensor(n);
    for (int i = 0; i < n; i++) {
      t.set(i, (float) (r.nextGaussian() * scale));
    }
    return t;
  }

  private static Conv2d conv(int chunk, boolean hidden) {
    Conv2d c = new Conv2d(3, 7, 6, 4, 3, 2, 2, 1, 5, hidden);
    c.chunkOverride = chunk;
    return c;
  }

  @Test
  void chunkedGemmsMatchOneGemmPerImage() {
    Random r = new Random(7);
    int B = 7;
    Conv2d one = conv(1, true);
    Tensor x = random(B * one.in(), r, 1);
    Tensor p = random(5 + one.paramSize(), r, 0.5);
    Tensor dout = random(B * one.out(), r, 1);
    float[] refOut = null;
    float[] refGrads = null;
    float[] refDinp = null;
    for (int chunk : new int[] {1, 3, 0}) { // per image; chunks of 3, 3, 1; the default (all 7 in one chunk here)
      for (float retain : new float[] {1f, 0.6f}) {
        Conv2d c = conv(chunk, true);
        Tensor out = new Tensor(B * c.out());
        c.forward(out, x, p, B, retain, new Rng(3));
        Tensor d = dout.copy();
        Tensor grads = new Tensor(p.size());
        Tensor dinp = new Tensor(B * c.in());
        dinp.fill(9f); // overwritten
        c.backward(dinp, grads, d, out, x, p, B, retain);
        assertThat(d.toArray()).containsExactly(dout.toArray()); // dout is left as it came
        if (retain < 1f) {
          continue;
        }
        if (refOut == null) {
          refOut = out.toArray();
          refGrads = grads.toArray();
          refDinp = dinp.toArray();
          continue;
        }
        for (int i = 0; i < out.size(); i++) { // the same k-dimension per output, the kernel may block differently
          assertThat(out.get(i)).as("chunk %d, output %d", chunk, i)
              .isCloseTo(refOut[i], within(1e-6f * Math.max(1f, Math.abs(refOut[i]))));
        }
        for (int i = 5; i < p.size(); i++) {
          assertThat(grads.get(i)).as("chunk %d, gradient %d", chunk, i)
              .isCloseTo(refGrads[i], within(1e-5f * Math.max(1f, Math.abs(refGrads[i]))));
        }
        for (int i = 0; i < dinp.size(); i++) {
          assertThat(dinp.get(i)).as("chunk %d, input %d", chunk, i)
              .isCloseTo(refDinp[i], within(1e-5f * Math.max(1f, Math.abs(refDinp[i]))));
        }
      }
    }
    assertThat(refOut).contains(0f); // the ReLU mask is exercised
  }

  @Test
  void dropoutDrawsInTheSameOrderForAnyChunking() {
    Random r = new Random(8);
    int B = 5;
    Conv2d a = conv(1, true);
    Conv2d b = conv(2, true);
    Tensor x = random(B * a.in(), r, 1);
    Tensor p = random(5 + a.paramSize(), r, 0.5);
    Tensor oa = new Tensor(B * a.out());
    Tensor ob = new Tensor(B * a.out());
    a.forward(oa, x, p, B, 0.5f, new Rng(11));
    b.forward(ob, x, p, B, 0.5f, new Rng(11));
    int dropped = 0;
    for (int i = 0; i < oa.size(); i++) {
      assertThat(ob.get(i) == 0f).as("unit %d", i).isEqualTo(oa.get(i) == 0f);
      assertThat(ob.get(i)).isCloseTo(oa.get(i), within(1e-6f * Math.max(1f, Math.abs(oa.get(i)))));
      dropped += oa.get(i) == 0f ? 1 : 0;
    }
    assertThat(dropped).isBetween(oa.size() / 4, oa.size() - 1);
  }

  /** The γ forward sweep as the direct loop over the unrolled edges (bias, then (c, i, j) in order). */
  private static double[] gammaForwardDirect(Conv2d l, int C, int H, int W, int F, int kh, int kw, int s, int pad,
      FloatBuffer p, double[] gIn, double pw) {
    int ho = l.outHeight();
    int wo = l.outWidth();
    boolean inf = Double.isInfinite(pw);
    double[] out = new double[F * ho * wo];
    for (int f = 0; f < F; f++) {
      for (int y = 0; y < ho; y++) {
        for (int x = 0; x < wo; x++) {
          double acc = Dense.powAbs(p.get(l.biasOffset() + f), pw);
          for (int c = 0; c < C; c++) {
            for (int i = 0; i < kh; i++) {
              for (int j = 0; j < kw; j++) {
                int iy = y * s + i - pad;
                int ix = x * s + j - pad;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                  double t = Dense.powAbs(p.get(l.weightOffset() + ((f * C + c) * kh + i) * kw + j), pw)
                      * gIn[(c * H + iy) * W + ix];
                  acc = inf ? Math.max(acc, t) : acc + t;
                }
              }
            }
          }
          out[(f * ho + y) * wo + x] = acc;
        }
      }
    }
    return out;
  }

  /** γ backward and the κ sums as direct loops over the unrolled edges. */
  private static double[][] backwardAndKappaDirect(Conv2d l, int C, int H, int W, int F, int kh, int kw, int s,
      int pad, FloatBuffer p, double[] gIn, double[] gOut, double pw) {
    int ho = l.outHeight();
    int wo = l.outWidth();
    boolean inf = Double.isInfinite(pw);
    double[] back = new double[C * H * W];
    double[] kappa = new double[l.paramSize()];
    for (int f = 0; f < F; f++) {
      double sb = 0;
      for (int q = 0; q < ho * wo; q++) {
        sb += gOut[f * ho * wo + q];
      }
      kappa[F * C * kh * kw + f] = Math.pow(sb, 2 / pw);
      for (int c = 0; c < C; c++) {
        for (int i = 0; i < kh; i++) {
          for (int j = 0; j < kw; j++) {
            double wt = Dense.powAbs(p.get(l.weightOffset() + ((f * C + c) * kh + i) * kw + j), pw);
            double sum = 0;
            for (int y = 0; y < ho; y++) {
              for (int x = 0; x < wo; x++) {
                int iy = y * s + i - pad;
                int ix = x * s + j - pad;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                  int at = (c * H + iy) * W + ix;
                  double go = gOut[(f * ho + y) * wo + x];
                  back[at] = inf ? Math.max(back[at], wt * go) : back[at] + wt * go;
                  sum += gIn[at] * go;
                }
              }
            }
            kappa[((f * C + c) * kh + i) * kw + j] = Math.pow(sum, 2 / pw);
          }
        }
      }
    }
    return new double[][] {back, kappa};
  }

  @Test
  void gammaSweepsAndKappaMatchTheDirectLoopsOverTheUnrolledEdges() {
    Random r = new Random(9);
    int[][] shapes = {{3, 7, 6, 4, 3, 2, 2, 1}, {2, 6, 6, 3, 3, 3, 1, 1}, {2, 5, 4, 2, 2, 3, 1, 0}};
    for (int[] sh : shapes) {
      int C = sh[0], H = sh[1], W = sh[2], F = sh[3], kh = sh[4], kw = sh[5], s = sh[6], pad = sh[7];
      Conv2d l = new Conv2d(C, H, W, F, kh, kw, s, pad, 3, true);
      Tensor p = random(3 + l.paramSize(), r, 0.7);
      double[] gIn = new double[l.in()];
      double[] gOut = new double[l.out()];
      for (int i = 0; i < gIn.length; i++) {
        gIn[i] = 0.5 + r.nextDouble();
      }
      for (int i = 0; i < gOut.length; i++) {
        gOut[i] = 0.5 + r.nextDouble();
      }
      for (double pw : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
        double[] fwd = new double[l.out()];
        l.gammaForward(p.buffer(), gIn, fwd, pw, true);
        double[] wantF = gammaForwardDirect(l, C, H, W, F, kh, kw, s, pad, p.buffer(), gIn, pw);
        if (Double.isInfinite(pw)) { // max-plus: the same maxima, to the bit
          assertThat(fwd).containsExactly(wantF);
        }
        for (int i = 0; i < fwd.length; i++) { // a double GEMM: its own order of additions
          assertThat(fwd[i]).as("γ forward %d, p = %s", i, pw).isCloseTo(wantF[i], within(1e-12 * wantF[i]));
        }
        double[] back = new double[l.in()];
        java.util.Arrays.fill(back, 5.0); // overwritten
        l.gammaBackward(p.buffer(), gOut, back, pw);
        double[][] want = backwardAndKappaDirect(l, C, H, W, F, kh, kw, s, pad, p.buffer(), gIn, gOut, pw);
        for (int i = 0; i < back.length; i++) {
          assertThat(back[i]).as("γ backward %d, p = %s", i, pw).isCloseTo(want[0][i], within(1e-12 * want[0][i]));
        }
        if (Double.isFinite(pw)) {
          double[] kappa = new double[3 + l.paramSize()];
          l.kappa(gIn, gOut, pw, kappa);
          for (int i = 0; i < want[1].length; i++) {
            assertThat(kappa[3 + i]).as("κ %d, p = %s", i, pw).isCloseTo(want[1][i], within(1e-12 * want[1][i]));
          }
        }
      }
    }
  }

  @Test
  void maxPoolingSendsTheErrorToTheFirstMaximumWithTies() {
    Random r = new Random(10);
    int B = 3;
    // 2 × 2 windows that tile (the branch-free path), a 2 × 2 window that does not tile (odd size), 3 × 3 that tiles
    for (MaxPool2d l : new MaxPool2d[] {new MaxPool2d(2, 6, 4, 2, 2, 0), new MaxPool2d(2, 5, 5, 2, 2, 0),
      new MaxPool2d(1, 6, 6, 3, 3, 0)}) {
      Tensor x = new Tensor(B * l.in());
      for (int i = 0; i < x.size(); i++) {
        x.set(i, r.nextInt(3)); // values 0, 1, 2: many ties
      }
      Tensor g = random(B * l.out(), r, 1);
      Tensor out = new Tensor(B * l.out());
      l.forward(out, x, null, B, 1f, null);
      Tensor d = new Tensor(B * l.in());
      d.fill(7f);
      l.backward(d, null, g, out, x, null, B, 1f);
      float[] want = new float[B * l.in()];
      int c = l.in() / (l.h * l.w);
      for (int b = 0; b < B; b++) {
        for (int ch = 0; ch < c; ch++) {
          for (int y = 0; y < l.outHeight(); y++) {
            for (int xx = 0; xx < l.outWidth(); xx++) {
              int best = -1;
              float m = 0;
              for (int i = 0; i < l.k; i++) {
                for (int j = 0; j < l.k; j++) {
                  int at = b * l.in() + (ch * l.h + y * l.stride + i) * l.w + xx * l.stride + j;
                  if (best < 0 || x.get(at) > m) {
                    best = at;
                    m = x.get(at);
                  }
                }
              }
              int o = b * l.out() + (ch * l.outHeight() + y) * l.outWidth() + xx;
              assertThat(out.get(o)).isEqualTo(m);
              want[best] += g.get(o);
            }
          }
        }
      }
      assertThat(d.toArray()).containsExactly(want);
    }
  }
}
