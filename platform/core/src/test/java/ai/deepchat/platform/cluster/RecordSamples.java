package ai.deepchat.platform.cluster;

import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Sample instances of any message record, built from its components, so a test over every registered
 * type needs no hand-written sample per record. A component type it cannot fill fails loudly: teach it
 * here rather than leaving the record untested.
 */
final class RecordSamples {

  private RecordSamples() {
  }

  /** Every component set: text with markup, quotes, a newline and CJK, non-zero numbers, two-element lists. */
  static <T extends Record> T filled(Class<T> type) {
    RecordComponent[] components = type.getRecordComponents();
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      values[i] = value(components[i].getGenericType(), components[i].getName(), i + 1);
    }
    return construct(type, values);
  }

  /** Every reference component null, every primitive zero or false: what a sender leaves out. */
  static <T extends Record> T empty(Class<T> type) {
    RecordComponent[] components = type.getRecordComponents();
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      values[i] = components[i].getType().isPrimitive() ? zero(components[i].getType()) : null;
    }
    return construct(type, values);
  }

  private static Object value(Type type, String name, int n) {
    if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
      Type element = p.getActualTypeArguments()[0];
      return List.of(value(element, name, n), value(element, name + "-2", n + 1));
    }
    if (type instanceof ParameterizedType p && p.getRawType() == Map.class) {
      return Map.of(name, value(p.getActualTypeArguments()[1], name, n));
    }
    if (!(type instanceof Class<?> c)) {
      throw new IllegalArgumentException("no sample for " + type + " (" + name + "): teach RecordSamples");
    }
    if (c == String.class || c == Object.class) {
      return name + " <b>\"数据\"</b>\n" + n;
    }
    if (c == int.class || c == Integer.class) {
      return 1_000 + n;
    }
    if (c == long.class || c == Long.class) {
      return 1_700_000_000_000_000L + n;
    }
    if (c == double.class || c == Double.class) {
      return n + 0.1;
    }
    if (c == boolean.class || c == Boolean.class) {
      return true;
    }
    if (c.isEnum()) {
      Object[] constants = c.getEnumConstants();
      return constants[n % constants.length];
    }
    if (c.isRecord()) {
      return filled(c.asSubclass(Record.class));
    }
    throw new IllegalArgumentException("no sample for " + c.getName() + " (" + name + "): teach RecordSamples");
  }

  private static Object zero(Class<?> primitive) {
    if (primitive == boolean.class) {
      return false;
    }
    if (primitive == long.class) {
      return 0L;
    }
    if (primitive == double.class) {
      return 0.0;
    }
    if (primitive == int.class) {
      return 0;
    }
    throw new IllegalArgumentException("no zero for " + primitive + ": teach RecordSamples");
  }

  private static <T extends Record> T construct(Class<T> type, Object[] values) {
    Class<?>[] signature = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getType)
        .toArray(Class<?>[]::new);
    try {
      Constructor<T> canonical = type.getDeclaredConstructor(signature);
      return canonical.newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot build a sample " + type.getName(), e);
    }
  }
}
