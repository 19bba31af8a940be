// A prototype, not part of the build (issue 24's last item): times oneDNN's 3x3, pad-1 convolution (forward, backward
// data, backward weights) through JavaCPP's presets, at one thread, in plain NCHW/OIHW layout and in the blocked
// layout oneDNN picks ("any"). It says whether a oneDNN path for conv layers would close the gap to PyTorch; see
// docs/performance.md. The check compares one output with a double sum (meaningful in the plain layout only: the
// blocked memories are not filled in this layout-agnostic way).
//
// Run (the jars come from Maven Central; JavaCPP 1.5.13 is the version our OpenBLAS uses):
//   for a in org.bytedeco:dnnl:3.11-1.5.13 org.bytedeco:dnnl:3.11-1.5.13:jar:linux-x86_64 \
//            org.bytedeco:opencl:3.0-1.5.13 org.bytedeco:opencl:3.0-1.5.13:jar:linux-x86_64; do
//     mvn -q dependency:get -Dartifact=$a -Dtransitive=false; done
//   M=~/.m2/repository/org/bytedeco; CP=$M/dnnl/3.11-1.5.13/dnnl-3.11-1.5.13.jar:$M/dnnl/3.11-1.5.13/dnnl-3.11-1.5.13-linux-x86_64.jar
//   CP=$CP:$M/javacpp/1.5.13/javacpp-1.5.13.jar:$M/javacpp/1.5.13/javacpp-1.5.13-linux-x86_64.jar
//   CP=$CP:$M/opencl/3.0-1.5.13/opencl-3.0-1.5.13.jar:$M/opencl/3.0-1.5.13/opencl-3.0-1.5.13-linux-x86_64.jar
//   OMP_NUM_THREADS=1 java -cp $CP scripts/OneDnnConvProto.java 50 16 any     # batch, channels, nchw|any
import org.bytedeco.dnnl.*;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.*;

/** oneDNN (bytedeco dnnl 3.11) 3x3 pad-1 conv, plain nchw/oihw, forward + backward data + backward weights, timed. */
public class OneDnnConvProto {
  static LongPointer dims(long... d) { return new LongPointer(d); }
  public static void main(String[] a) {
    int N = Integer.parseInt(a[0]), C = Integer.parseInt(a[1]), H = 32, W = 32, F = C;
    engine eng = new engine(engine.kind.cpu, 0);
    stream s = new stream(eng);
    boolean any = a.length > 2 && a[2].equals("any");
    memory.desc src = new memory.desc(dims(N, C, H, W), memory.data_type.f32, any ? memory.format_tag.any : memory.format_tag.nchw);
    memory.desc wei = new memory.desc(dims(F, C, 3, 3), memory.data_type.f32, any ? memory.format_tag.any : memory.format_tag.oihw);
    memory.desc bia = new memory.desc(dims(F), memory.data_type.f32, memory.format_tag.x);
    memory.desc dst = new memory.desc(dims(N, F, H, W), memory.data_type.f32, any ? memory.format_tag.any : memory.format_tag.nchw);
    LongPointer st = dims(1, 1), pl = dims(1, 1), pr = dims(1, 1);
    convolution_forward.primitive_desc fpd = new convolution_forward.primitive_desc(eng, dnnl.prop_kind.forward_training,
        dnnl.algorithm.convolution_direct, src, wei, bia, dst, st, pl, pr);
    convolution_backward_data.primitive_desc bdpd = new convolution_backward_data.primitive_desc(eng,
        dnnl.algorithm.convolution_direct, src, wei, dst, st, pl, pr, fpd);
    convolution_backward_weights.primitive_desc bwpd = new convolution_backward_weights.primitive_desc(eng,
        dnnl.algorithm.convolution_direct, src, wei, bia, dst, st, pl, pr, fpd);
    memory mS = new memory(fpd.src_desc(), eng), mW = new memory(fpd.weights_desc(), eng), mB = new memory(bia, eng), mD = new memory(fpd.dst_desc(), eng);
    memory mdS = new memory(bdpd.diff_src_desc(), eng), mdW = new memory(bwpd.diff_weights_desc(), eng), mdB = new memory(bia, eng), mdD = new memory(bdpd.diff_dst_desc(), eng);
    FloatPointer ps = new FloatPointer(mS.get_data_handle()); ps.capacity((long) N * C * H * W);
    for (long i = 0; i < ps.capacity(); i++) ps.put(i, (float) Math.sin(i));
    FloatPointer pw = new FloatPointer(mW.get_data_handle()); pw.capacity((long) F * C * 9);
    for (long i = 0; i < pw.capacity(); i++) pw.put(i, (float) Math.cos(i) * 0.1f);
    FloatPointer pdd = new FloatPointer(mdD.get_data_handle()); pdd.capacity((long) N * F * H * W);
    for (long i = 0; i < pdd.capacity(); i++) pdd.put(i, (float) Math.sin(0.3 * i));
    convolution_forward fwd = new convolution_forward(fpd);
    convolution_backward_data bd = new convolution_backward_data(bdpd);
    convolution_backward_weights bw = new convolution_backward_weights(bwpd);
    IntMemoryMap fa = new IntMemoryMap(); fa.put(dnnl.DNNL_ARG_SRC, mS); fa.put(dnnl.DNNL_ARG_WEIGHTS, mW); fa.put(dnnl.DNNL_ARG_BIAS, mB); fa.put(dnnl.DNNL_ARG_DST, mD);
    IntMemoryMap da = new IntMemoryMap(); da.put(dnnl.DNNL_ARG_DIFF_DST, mdD); da.put(dnnl.DNNL_ARG_WEIGHTS, mW); da.put(dnnl.DNNL_ARG_DIFF_SRC, mdS);
    IntMemoryMap wa = new IntMemoryMap(); wa.put(dnnl.DNNL_ARG_SRC, mS); wa.put(dnnl.DNNL_ARG_DIFF_DST, mdD); wa.put(dnnl.DNNL_ARG_DIFF_WEIGHTS, mdW); wa.put(dnnl.DNNL_ARG_DIFF_BIAS, mdB);
    String impl = fpd.impl_info_str().getString() + " / " + bdpd.impl_info_str().getString() + " / " + bwpd.impl_info_str().getString();
    double flops = 3.0 * 2.0 * N * F * C * 9 * H * W;
    for (int w = 0; w < 5; w++) { fwd.execute(s, fa); bd.execute(s, da); bw.execute(s, wa); s._wait(); }
    int reps = 20; long t0 = System.nanoTime();
    for (int r = 0; r < reps; r++) { fwd.execute(s, fa); bd.execute(s, da); bw.execute(s, wa); s._wait(); }
    double ms = (System.nanoTime() - t0) / 1e6 / reps;
    // check one output against a direct double sum
    FloatPointer pd = new FloatPointer(mD.get_data_handle()); pd.capacity((long) N * F * H * W);
    int n0 = 1, f0 = 2, y0 = 0, x0 = 5; double ref = 0;
    for (int c = 0; c < C; c++) for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) {
      int yy = y0 + i - 1, xx = x0 + j - 1; if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      ref += (double) pw.get(((long) (f0 * C + c) * 3 + i) * 3 + j) * ps.get(((long) (n0 * C + c) * H + yy) * W + xx); }
    float got = pd.get(((long) (n0 * F + f0) * H + y0) * W + x0);
    System.out.printf("N=%d C=F=%d 32x32: fwd+bwd_data+bwd_weights %.2f ms per layer step, %.1f GFLOP/s; check %.6f vs %.6f; impl %s%n",
        N, C, ms, flops / ms / 1e6, got, ref, impl);
  }
}
