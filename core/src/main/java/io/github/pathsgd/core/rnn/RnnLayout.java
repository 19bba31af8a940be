package io.github.pathsgd.core.rnn;

/**
 * The flat parameter vector of a single-layer ReLU RNN with a linear output layer reading the last hidden state:
 * {@code h_t = relu(W_in x_t + W_rec h_{t-1} + b)}, {@code h_0 = 0}, {@code y = W_out h_T + b_out}. In this order,
 * row-major: W_in (H, I), W_rec (H, H) with W_rec[a, b] the weight from unit b at time t−1 to unit a at time t, b (H),
 * W_out (O, H), b_out (O).
 *
 * @param in I, inputs per time step
 * @param hidden H, hidden units
 * @param out O, outputs
 */
public record RnnLayout(int in, int hidden, int out) {
  public RnnLayout {
    if (in < 1 || hidden < 1 || out < 1) {
      throw new IllegalArgumentException("rnn: inputs, hidden units and outputs must be positive, got in=" + in
          + " hidden=" + hidden + " out=" + out);
    }
    long n = (long) hidden * in + (long) hidden * hidden + hidden + (long) out * hidden + out;
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("rnn: " + n + " parameters exceed an int index");
    }
  }

  /** Offset of W_in (H, I). */
  public int wIn() {
    return 0;
  }

  /** Offset of W_rec (H, H). */
  public int wRec() {
    return hidden * in;
  }

  /** Offset of b (H). */
  public int b() {
    return wRec() + hidden * hidden;
  }

  /** Offset of W_out (O, H). */
  public int wOut() {
    return b() + hidden;
  }

  /** Offset of b_out (O). */
  public int bOut() {
    return wOut() + out * hidden;
  }

  /** Number of parameters. */
  public int size() {
    return bOut() + out;
  }
}
