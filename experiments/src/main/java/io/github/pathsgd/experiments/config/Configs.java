package io.github.pathsgd.experiments.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.pathsgd.data.InputFiles;
import io.github.pathsgd.data.Suggest;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Strict JSON and YAML mappers for configs and results: snake_case keys, unknown keys rejected.
 *
 * <p>Reading a config is strict in every way that could otherwise go silently wrong:
 * <ul>
 *   <li>the file must be a regular file ({@link InputFiles}: a FIFO is never opened, a device never read) of at most
 *       {@link #MAX_CONFIG_BYTES} bytes (1 MiB; a config is a few hundred bytes);</li>
 *   <li>a key given twice is an error (the last one does not silently win), so is a second YAML document or any
 *       text after the first JSON value;</li>
 *   <li>every type error names the key path ({@code hidden}, {@code hidden[1]}), the expected type and the value
 *       found; a number with a fraction is not an integer ({@code epochs: 1.5} is refused, not truncated), and an
 *       integer out of the key's range is refused;</li>
 *   <li>an empty file, or a top level that is not a mapping of keys, is an error;</li>
 *   <li>a YAML tag other than the core schema's ({@code !!str}, {@code !!int}, {@code !!float}, {@code !!bool},
 *       {@code !!null}, {@code !!seq}, {@code !!map}) is an error naming the tag and its line ({@code lr: !foo 0.1}
 *       would otherwise be read as {@code lr: 0.1}, the tag dropped).</li>
 * </ul>
 */
public final class Configs {
  /** The largest config file read: 1 MiB. */
  public static final int MAX_CONFIG_BYTES = 1 << 20;
  /** The deepest nesting accepted in a config or result file (a config has 2 levels). */
  static final int MAX_NESTING = 100;

  private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
      .maxNestingDepth(MAX_NESTING).build();
  private static final ObjectMapper JSON = configure(new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(LIMITS).enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()));
  private static final ObjectMapper YAML = configure(new ObjectMapper(YAMLFactory.builder()
      .loaderOptions(loaderOptions()).streamReadConstraints(LIMITS)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()));

  private Configs() {}

  private static LoaderOptions loaderOptions() {
    LoaderOptions o = new LoaderOptions();
    o.setCodePointLimit(MAX_CONFIG_BYTES); // a string given to parse() is bounded like a file
    o.setNestingDepthLimit(MAX_NESTING);
    o.setAllowDuplicateKeys(false);
    o.setMaxAliasesForCollections(10);
    return o;
  }

  private static ObjectMapper configure(ObjectMapper m) {
    m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    m.enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    m.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    // no silent coercions between kinds: 1.5 is not an integer, 5 is not a boolean
    m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    // an empty string is not a missing value: 'epochs: ""' is refused, 'epochs:' (null) takes the default
    for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      m.coercionConfigFor(t).setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    m.enable(SerializationFeature.INDENT_OUTPUT);
    m.disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    return m;
  }

  public static ObjectMapper json() {
    return JSON;
  }

  public static ObjectMapper yaml() {
    return YAML;
  }

  /**
   * Reads a YAML or JSON file (by extension) into {@code type}; errors name the file and the bad key.
   *
   * @throws ConfigException for a file that is not a regular file, larger than {@link #MAX_CONFIG_BYTES}, not
   *     valid YAML/JSON, or with an unknown, duplicate or mistyped key
   */
  public static <T> T read(Path file, Class<T> type) {
    ObjectMapper m = mapperFor(file);
    return bind(m, readTree(file, m), type, file.toString());
  }

  /**
   * Reads a run config: a YAML or JSON config file as {@link #read}, or a run's own {@code config.json} (the object
   * with {@code run_id}, {@code config_hash} and the resolved {@code config}), whose {@code config} block is the
   * config, so that {@code pathsgd train --config runs/x/config.json} repeats run x.
   */
  public static TrainConfig readTrainConfig(Path file) {
    ObjectMapper m = mapperFor(file);
    JsonNode tree = readTree(file, m);
    if (tree != null && tree.isObject() && tree.has("run_id") && tree.has("config_hash")
        && tree.path("config").isObject()) {
      tree = tree.get("config");
    }
    return bind(m, tree, TrainConfig.class, file.toString());
  }

  /** One-line JSON (for terminal output). */
  public static String compact(Object o) {
    try {
      return JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectMapper mapperFor(Path file) {
    String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".json") ? JSON : YAML;
  }

  /** The parsed tree of a config file, bounded in size; errors name the file. */
  private static JsonNode readTree(Path file, ObjectMapper m) {
    String problem = InputFiles.problem(file);
    if (problem != null) {
      throw new ConfigException(file.toString(), "config " + problem);
    }
    byte[] bytes;
    try {
      bytes = InputFiles.readBounded(file, MAX_CONFIG_BYTES, "config");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file.toString(), "config file has more than the " + MAX_CONFIG_BYTES
          + " bytes (1 MiB) a config may have");
    } catch (IOException e) {
      throw new ConfigException(file.toString(), "cannot read the config: " + e.getMessage());
    }
    if (m == YAML) {
      refuseTags(bytes, file.toString());
    }
    JsonNode tree;
    try {
      tree = m.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw new ConfigException(file.toString(), syntax(e));
    } catch (IOException e) {
      throw new ConfigException(file.toString(), "cannot read the config: " + e.getMessage());
    }
    return tree;
  }

  /** The YAML tags whose meaning is the value's own type (the core schema): accepted, everything else refused. */
  private static final java.util.Set<String> CORE_TAGS = java.util.Set.of("str", "int", "float", "bool", "null",
      "seq", "map").stream().map(t -> "tag:yaml.org,2002:" + t).collect(java.util.stream.Collectors.toUnmodifiableSet());

  /**
   * Refuses a YAML tag outside the core schema ({@code lr: !foo 0.1}), naming it and its line: Jackson's tree drops
   * tags, so the value would be read as if the tag were not there.
   */
  private static void refuseTags(byte[] bytes, String source) {
    Iterable<org.yaml.snakeyaml.events.Event> events = new org.yaml.snakeyaml.Yaml(loaderOptions())
        .parse(new java.io.InputStreamReader(new java.io.ByteArrayInputStream(bytes), StandardCharsets.UTF_8));
    try {
      for (org.yaml.snakeyaml.events.Event e : events) {
        String tag = e instanceof org.yaml.snakeyaml.events.ScalarEvent sc ? sc.getTag()
            : e instanceof org.yaml.snakeyaml.events.CollectionStartEvent cs ? cs.getTag() : null;
        if (tag != null && !CORE_TAGS.contains(tag)) {
          String shown = tag.startsWith("tag:yaml.org,2002:") ? "!!" + tag.substring("tag:yaml.org,2002:".length())
              : tag;
          org.yaml.snakeyaml.error.Mark at = e.getStartMark();
          throw new ConfigException(source, "unknown YAML tag '" + (shown.length() > 60 ? shown.substring(0, 60)
              + "..." : shown) + "'" + (at == null ? "" : " (line " + (at.getLine() + 1) + ", column "
              + (at.getColumn() + 1) + ")") + "; expected plain values (the only tags read are the core schema's: "
              + "!!str, !!int, !!float, !!bool, !!null, !!seq, !!map)");
        }
      }
    } catch (org.yaml.snakeyaml.error.YAMLException e) {
      // not valid YAML: the parse that follows reports it, with its line and column, in the usual words
    }
  }

  /**
   * A YAML text's tree, as strictly as a config file's (bounded, tags outside the core schema refused); {@code
   * source} names it in messages.
   */
  public static JsonNode yamlTree(String text, String source) {
    if (text.length() > MAX_CONFIG_BYTES) {
      throw new ConfigException(source, "config text has " + text.length() + " characters, more than the "
          + MAX_CONFIG_BYTES + " a config may have");
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    refuseTags(bytes, source);
    try {
      return YAML.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw new ConfigException(source, syntax(e));
    } catch (IOException e) {
      throw new ConfigException(source, "cannot read: " + e.getMessage());
    }
  }

  /** A YAML/JSON string into {@code type}, as strictly as {@link #read}; {@code source} names it in messages. */
  public static <T> T parse(String text, Class<T> type, String source) {
    return bind(YAML, yamlTree(text, source), type, source);
  }

  /** A parse error with its line and column. */
  private static String syntax(JsonProcessingException e) {
    String msg = e.getOriginalMessage();
    if (msg != null && msg.startsWith("Duplicate field")) {
      msg = "duplicate key" + msg.substring("Duplicate field".length()) + "; give each key once";
    } else if (msg != null && msg.startsWith("Duplicate key") || msg != null && msg.contains("duplicate")) {
      msg = msg + "; give each key once";
    }
    JsonLocation at = e.getLocation();
    String where = at == null || at.getLineNr() < 0 ? "" : " (line " + at.getLineNr() + ", column "
        + at.getColumnNr() + ")";
    return "not valid YAML/JSON: " + (msg == null ? e.getClass().getSimpleName() : msg.replace('\n', ' ')) + where;
  }

  /** Binds a parsed tree to {@code type}, turning every binding error into one line naming the key. */
  private static <T> T bind(ObjectMapper m, JsonNode tree, Class<T> type, String source) {
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      throw new ConfigException(source, "the config is empty; expected a mapping of keys such as 'epochs: 10'");
    }
    if (!tree.isObject()) {
      throw new ConfigException(source, "expected a mapping of keys at the top level (such as 'epochs: 10'), got "
          + describe(tree));
    }
    checkRanges(tree, type, "", source);
    try {
      return m.treeToValue(tree, type);
    } catch (UnrecognizedPropertyException e) {
      List<String> known = knownKeys(e);
      throw new ConfigException(path(e), "unknown key in " + source + Suggest.hint(e.getPropertyName(), known)
          + " (known keys: " + known + ")");
    } catch (MismatchedInputException e) {
      String key = path(e);
      JsonNode v = tree.at(pointer(e));
      throw new ConfigException(key, "expected " + expected(e.getTargetType()) + ", got "
          + (v.isMissingNode() ? "a value of another type" : describe(v)) + " in " + source);
    } catch (JsonMappingException e) {
      throw new ConfigException(e.getPath().isEmpty() ? source : path(e), e.getOriginalMessage() + " in " + source);
    } catch (InputCoercionException e) {
      throw new ConfigException(source, e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new ConfigException(source, e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source, String.valueOf(e.getMessage()));
    }
  }

  /**
   * The keys a file may hold where {@code e} found an unknown one, sorted: a record's components (snake_case), not the
   * other names Jackson knows of it (such as a derived property).
   */
  static List<String> knownKeys(UnrecognizedPropertyException e) {
    java.util.TreeSet<String> out = new java.util.TreeSet<>();
    Class<?> c = e.getReferringClass();
    if (c != null && c.isRecord()) {
      for (RecordComponent rc : c.getRecordComponents()) {
        out.add(PropertyNamingStrategies.SnakeCaseStrategy.INSTANCE.translate(rc.getName()));
      }
    } else if (e.getKnownPropertyIds() != null) {
      e.getKnownPropertyIds().forEach(k -> out.add(String.valueOf(k)));
    }
    return List.copyOf(out);
  }

  /**
   * Refuses integers out of the range of an {@code Integer}, {@code Long} or {@code List<Integer>} component of a
   * record before binding (Jackson reports those without the key).
   */
  private static void checkRanges(JsonNode tree, Class<?> type, String prefix, String source) {
    if (!type.isRecord()) {
      return;
    }
    for (RecordComponent rc : type.getRecordComponents()) {
      String key = PropertyNamingStrategies.SnakeCaseStrategy.INSTANCE.translate(rc.getName());
      JsonNode v = tree.get(key);
      if (v == null) {
        continue;
      }
      Class<?> t = rc.getType();
      if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
        checkRange(v, t, prefix + key, source);
      } else if (Collection.class.isAssignableFrom(t) && v.isArray()
          && rc.getGenericType() instanceof ParameterizedType pt) {
        Type[] args = pt.getActualTypeArguments();
        if (args.length == 1 && (args[0] == Integer.class || args[0] == Long.class)) {
          for (int i = 0; i < v.size(); i++) {
            checkRange(v.get(i), (Class<?>) args[0], prefix + key + "[" + i + "]", source);
          }
        }
      }
    }
  }

  private static void checkRange(JsonNode v, Class<?> t, String key, String source) {
    if (!v.isIntegralNumber()) {
      return; // other mismatches are reported by the binding, with the key
    }
    boolean isInt = t == Integer.class || t == int.class;
    BigInteger b = v.bigIntegerValue();
    BigInteger lo = BigInteger.valueOf(isInt ? Integer.MIN_VALUE : Long.MIN_VALUE);
    BigInteger hi = BigInteger.valueOf(isInt ? Integer.MAX_VALUE : Long.MAX_VALUE);
    if (b.compareTo(lo) < 0 || b.compareTo(hi) > 0) {
      throw new ConfigException(key, "expected an integer in " + lo + ".." + hi + ", got " + b + " in " + source);
    }
  }

  /** The key path of a binding error: {@code hidden[1]}, {@code base.lr}. */
  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "config" : sb.toString();
  }

  private static JsonPointer pointer(JsonMappingException e) {
    JsonPointer p = JsonPointer.empty();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        p = p.appendProperty(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        p = p.appendIndex(r.getIndex());
      }
    }
    return p;
  }

  /** "an integer", "a number", "a list of integers", ... for a target type. */
  static String expected(Class<?> t) {
    if (t == null) {
      return "another type";
    }
    if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
      return "an integer";
    }
    if (t == Double.class || t == double.class || t == Float.class || t == float.class) {
      return "a number";
    }
    if (t == Boolean.class || t == boolean.class) {
      return "true or false";
    }
    if (t == String.class) {
      return "a string";
    }
    if (Collection.class.isAssignableFrom(t) || t.isArray()) {
      return "a list (such as [1000, 1000])";
    }
    if (Map.class.isAssignableFrom(t) || t.isRecord()) {
      return "a mapping of keys";
    }
    return "a " + t.getSimpleName();
  }

  /** "the integer 64", "a list", "the string 'abc'", ... for a value found. */
  static String describe(JsonNode v) {
    if (v.isIntegralNumber()) {
      return "the integer " + v.asText();
    }
    if (v.isNumber()) {
      return "the number " + v.asText();
    }
    if (v.isBoolean()) {
      return v.asText();
    }
    if (v.isNull()) {
      return "null";
    }
    if (v.isTextual()) {
      String s = v.asText();
      return "the string '" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
    }
    if (v.isArray()) {
      return "a list";
    }
    if (v.isObject()) {
      StringBuilder keys = new StringBuilder();
      Iterator<String> it = v.fieldNames();
      for (int i = 0; it.hasNext() && i < 3; i++) {
        keys.append(i == 0 ? "" : ", ").append(it.next());
      }
      return "a mapping (keys " + keys + (v.size() > 3 ? ", ..." : "") + ")";
    }
    return v.getNodeType().toString().toLowerCase(Locale.ROOT);
  }

  /** The config as a snake_case map (for overrides and records). */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> toMap(Object config) {
    return JSON.convertValue(config, Map.class);
  }

  /** Rebuilds a config from a map, strictly (the same errors as {@link #read}). */
  public static <T> T fromMap(Map<String, Object> map, Class<T> type) {
    JsonNode tree;
    try {
      tree = JSON.valueToTree(map);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("config", String.valueOf(e.getMessage()));
    }
    return bind(JSON, tree, type, "the config");
  }
}
