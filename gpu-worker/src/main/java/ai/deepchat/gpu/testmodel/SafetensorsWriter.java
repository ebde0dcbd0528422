package ai.deepchat.gpu.testmodel;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a .safetensors file (8-byte little-endian header length, JSON header with dtype, shape and
 * data offsets, then the raw tensors) holding bf16 tensors.
 */
final class SafetensorsWriter {

  record Tensor(String name, long[] shape, float[] values) {
  }

  private final List<Tensor> tensors = new ArrayList<>();

  void add(String name, float[] values, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != values.length) {
      throw new IllegalArgumentException(name + ": " + values.length + " values for shape of " + n);
    }
    tensors.add(new Tensor(name, shape, values));
  }

  void write(Path file) throws IOException {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("__metadata__", Map.of("format", "pt"));
    long offset = 0;
    for (Tensor t : tensors) {
      long bytes = 2L * t.values().length;
      header.put(t.name(), Map.of("dtype", "BF16", "shape", t.shape(), "data_offsets", new long[] {offset, offset + bytes}));
      offset += bytes;
    }
    byte[] json = new ObjectMapper().writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    byte[] headerBytes = new byte[padded];
    java.util.Arrays.fill(headerBytes, (byte) ' ');
    System.arraycopy(json, 0, headerBytes, 0, json.length);
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerBytes);
      for (Tensor t : tensors) {
        ByteBuffer buf = ByteBuffer.allocate(2 * t.values().length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : t.values()) {
          buf.putShort(toBf16(v));
        }
        out.write(buf.array());
      }
    }
  }

  /** Round-to-nearest-even float32 → bfloat16. */
  static short toBf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

}
