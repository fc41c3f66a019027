package server

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The configuration file's rooms and clients are read field by field, so
// that a mistake is reported where it is ("rooms[0].token_validity: want a
// duration such as 90s or 15m, got "soon"", "clients[1].redirect_uri:
// unknown field; did you mean redirect_uris?") and in words rather than Go
// or YAML type names. Each value is converted with encoding/json, the way
// the admin API reads the same documents.

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[waitroom.Duration]()
	timeType        = reflect.TypeFor[time.Time]()
)

// decodeFields sets the fields of the struct dst points to from src, a
// document read from YAML (maps, lists and scalars), matching keys to the
// struct's tag (json or yaml). Every problem is returned, each starting
// with its path under path.
func decodeFields(path string, src map[string]any, dst any, tag string) []string {
	return decodeStruct(path, src, reflect.ValueOf(dst).Elem(), tag)
}

func decodeStruct(path string, src map[string]any, dst reflect.Value, tag string) []string {
	fields := fieldsByName(dst.Type(), tag)
	var problems []string
	for _, key := range sortedKeys(src) {
		at := joinPath(path, key)
		index, ok := fields[key]
		if !ok {
			problems = append(problems, at+": unknown field"+DidYouMean(key, fieldNames(fields)))
			continue
		}
		problems = append(problems, decodeValue(at, src[key], dst.FieldByIndex(index), tag)...)
	}
	return problems
}

func decodeValue(path string, src any, dst reflect.Value, tag string) []string {
	t := dst.Type()
	switch {
	case src == nil:
		return nil // "key:" with no value leaves the default
	case isLeaf(t):
	case t.Kind() == reflect.Pointer:
		v := reflect.New(t.Elem())
		problems := decodeValue(path, src, v.Elem(), tag)
		dst.Set(v)
		return problems
	case t.Kind() == reflect.Struct:
		if m, ok := src.(map[string]any); ok {
			return decodeStruct(path, m, dst, tag)
		}
		return []string{fmt.Sprintf("%s: want %s, got %s", path, describeType(t), describeValue(src))}
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		list, ok := src.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, describeType(t), describeValue(src))}
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		var problems []string
		for i, item := range list {
			problems = append(problems, decodeValue(fmt.Sprintf("%s[%d]", path, i), item, out.Index(i), tag)...)
		}
		dst.Set(out)
		return problems
	}
	raw, err := json.Marshal(src)
	if err == nil {
		err = json.Unmarshal(raw, dst.Addr().Interface())
	}
	if err != nil {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, describeType(t), describeValue(src))}
	}
	return nil
}

// isLeaf: a type read whole from one value (durations, times, anything
// with its own JSON or text form, maps, scalars).
func isLeaf(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	if p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Slice:
		return false
	case reflect.Pointer:
		return isLeaf(t.Elem())
	}
	return true
}

// fieldsByName maps each key of a struct (tag name, or the field name in
// lower case) to its field, fields of untagged embedded structs included.
func fieldsByName(t reflect.Type, tag string) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for k, index := range fieldsByName(f.Type, tag) {
				out[k] = append([]int{i}, index...)
			}
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		out[name] = []int{i}
	}
	return out
}

func fieldNames(fields map[string][]int) []string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describeType says in words what a field wants.
func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return `a duration such as "90s" or "15m"`
	case t == timeType:
		return "a date and time such as 2026-03-01T12:00:00Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of " + plural(describeType(t.Elem()))
	case reflect.Map:
		return "a mapping of " + describeType(t.Key()) + " to " + describeType(t.Elem())
	default:
		return "a mapping of fields"
	}
}

func plural(what string) string {
	for _, article := range []string{"a ", "an "} {
		if rest, ok := strings.CutPrefix(what, article); ok {
			return rest + "s"
		}
	}
	return what
}

// describeValue says in words what the file gave.
func describeValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case time.Time:
		return v.Format(time.RFC3339)
	default:
		return fmt.Sprint(v)
	}
}

// DidYouMean returns "; did you mean x?" for the known name nearest to
// name, or "" when none is near enough to be a likely slip: a few letters
// off, or the start or a longer form of a known name ("tls_cert" for
// tls_cert_file).
func DidYouMean(name string, known []string) string {
	name = strings.ToLower(name)
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(name, strings.ToLower(k))
		near := d <= 2 || d <= len(name)/3 ||
			(len(name) >= 4 && (strings.HasPrefix(strings.ToLower(k), name) || strings.HasPrefix(name, strings.ToLower(k))))
		if near && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
