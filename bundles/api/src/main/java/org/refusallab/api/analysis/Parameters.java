package org.refusallab.api.analysis;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed parameters declared once, as a DS component property type: an annotation whose methods are the
 * parameters, with their types, defaults and {@link Describe descriptions}. Keys follow the DS rules for property
 * names ({@code maxBatch} is {@code maxBatch}, {@code eval_limit} is {@code eval.limit}, {@code $_$} is a dash)
 * with the annotation's {@code PREFIX_} constant in front. Types: String, int, long, double, boolean, enums and
 * arrays of these (written {@code a|b|c}).
 *
 * <pre>{@code
 * @interface Params {
 *     @Describe("token whose logit is shown") String token() default "I";
 *     @Describe("fraction drawn as the threshold line") double threshold() default 0.5;
 * }
 * Params p = context.parameters(Params.class);
 * }</pre>
 */
public final class Parameters {

    private Parameters() { }

    /** One declared parameter: its key, type, default as text and description. */
    public record Declaration(String key, Class<?> type, String defaultValue, String description) { }

    public static List<Declaration> declarations(Class<?> declaration) {
        if (!declaration.isAnnotation()) throw new IllegalArgumentException(declaration.getName() + " is not an annotation type");
        String prefix = prefix(declaration);
        List<Declaration> out = new ArrayList<>();
        for (Method m : methods(declaration)) {
            Describe d = m.getAnnotation(Describe.class);
            out.add(new Declaration(prefix + key(m.getName()), m.getReturnType(), text(m.getDefaultValue()), d == null ? "" : d.value()));
        }
        return out;
    }

    /** The defaults of several declarations, by key, in declaration order. */
    public static Map<String, String> defaults(Class<?>... declarations) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Class<?> c : declarations) for (Declaration d : declarations(c)) out.put(d.key(), d.defaultValue());
        return out;
    }

    /** An instance of the declaration with each value read from {@code values} (its default where absent). */
    public static <P> P bind(String analysisId, Class<P> declaration, Map<String, String> values) {
        String prefix = prefix(declaration);
        Map<String, Object> bound = new LinkedHashMap<>();
        for (Method m : methods(declaration)) {
            String key = prefix + key(m.getName());
            String v = values.get(key);
            bound.put(m.getName(), v == null ? m.getDefaultValue() : parse(analysisId, key, v, m.getReturnType()));
            if (bound.get(m.getName()) == null) {
                throw new IllegalArgumentException("analysis " + analysisId + ": parameter " + key + " has no value and no default");
            }
        }
        Object proxy = Proxy.newProxyInstance(declaration.getClassLoader(), new Class<?>[] {declaration}, (p, method, args) -> {
            switch (method.getName()) {
                case "annotationType": return declaration;
                case "toString": return declaration.getSimpleName() + bound;
                case "hashCode": return bound.hashCode();
                case "equals": return p == args[0];
                default:
                    Object v = bound.get(method.getName());
                    return v != null && v.getClass().isArray() ? cloneArray(v) : v;
            }
        });
        return declaration.cast(proxy);
    }

    /** The DS key of a method name: {@code _} is a dot, {@code __} an underscore, {@code $_$} a dash, {@code $$} a dollar. */
    public static String key(String method) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (method.startsWith("$_$", i)) { s.append('-'); i += 2; }
            else if (method.startsWith("$$", i)) { s.append('$'); i += 1; }
            else if (c == '$') { /* dropped */ }
            else if (method.startsWith("__", i)) { s.append('_'); i += 1; }
            else if (c == '_') s.append('.');
            else s.append(c);
        }
        return s.toString();
    }

    private static String prefix(Class<?> declaration) {
        try {
            Field f = declaration.getField("PREFIX_");
            return String.valueOf(f.get(null));
        } catch (NoSuchFieldException e) {
            return "";
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Method> methods(Class<?> declaration) {
        // getDeclaredMethods has no defined order: sorted by name, so tables and defaults are stable
        List<Method> ms = new ArrayList<>(Arrays.asList(declaration.getDeclaredMethods()));
        ms.sort((a, b) -> a.getName().compareTo(b.getName()));
        return ms;
    }

    private static Object parse(String analysisId, String key, String text, Class<?> type) {
        if (type.isArray()) {
            String[] parts = text.isBlank() ? new String[0] : text.split("\\|");
            Object arr = Array.newInstance(type.getComponentType(), parts.length);
            for (int i = 0; i < parts.length; i++) Array.set(arr, i, parse(analysisId, key, parts[i], type.getComponentType()));
            return arr;
        }
        String v = type == String.class ? text : text.trim();
        try {
            if (type == String.class) return v;
            if (type == int.class) return Integer.parseInt(v);
            if (type == long.class) return Long.parseLong(v);
            if (type == double.class) return Double.parseDouble(v);
            if (type == float.class) return Float.parseFloat(v);
            if (type == boolean.class) {
                if (v.equalsIgnoreCase("true")) return true;
                if (v.equalsIgnoreCase("false")) return false;
                throw new IllegalArgumentException();
            }
            if (type.isEnum()) {
                for (Object c : type.getEnumConstants()) {
                    if (((Enum<?>) c).name().equalsIgnoreCase(v.replace('-', '_'))) return c;
                }
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("analysis " + analysisId + ": parameter " + key + " = '" + text + "' is not "
                    + expected(type), e);
        }
        throw new IllegalArgumentException("analysis " + analysisId + ": parameter " + key + " has unsupported type " + type.getName());
    }

    private static String expected(Class<?> type) {
        if (type == int.class || type == long.class) return "an integer";
        if (type == double.class || type == float.class) return "a number";
        if (type == boolean.class) return "true or false";
        if (type.isEnum()) return "one of " + Arrays.stream(type.getEnumConstants()).map(c -> ((Enum<?>) c).name().toLowerCase().replace('_', '-')).toList();
        return "a " + type.getSimpleName();
    }

    static String text(Object v) {
        if (v == null) return "";
        if (v.getClass().isArray()) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < Array.getLength(v); i++) parts.add(text(Array.get(v, i)));
            return String.join("|", parts);
        }
        if (v instanceof Enum<?> e) return e.name().toLowerCase().replace('_', '-');
        return String.valueOf(v);
    }

    private static Object cloneArray(Object a) {
        int n = Array.getLength(a);
        Object c = Array.newInstance(a.getClass().getComponentType(), n);
        System.arraycopy(a, 0, c, 0, n);
        return c;
    }
}
