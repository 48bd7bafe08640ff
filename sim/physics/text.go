package physics

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// field is one parameter: its JSON key and its index path in Params.
type field struct {
	key   string
	index []int
}

// fields lists the parameters in struct order, read off the JSON tags so
// that a new field needs no entry anywhere else.
var fields = func() []field {
	var out []field
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Params]()) {
		if f.Anonymous {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, field{key, f.Index})
	}
	return out
}()

// Keys returns the JSON keys of the parameters in struct order.
func Keys() []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}

func lookup(key string) (field, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// Get returns the text of the parameter named key: floats in the shortest
// form that reads back exactly ('g'), integers in decimal, lists of names
// comma-separated. ok is false for an unknown key.
func (p Params) Get(key string) (text string, ok bool) {
	f, ok := lookup(key)
	if !ok {
		return "", false
	}
	v := reflect.ValueOf(p).FieldByIndex(f.index)
	switch v.Kind() {
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), true
	case reflect.Slice:
		return strings.Join(v.Interface().([]string), ","), true
	}
	panic("physics: no text form for " + v.Kind().String())
}

// Set parses text, in the form Get writes, into the parameter named key.
// Names in a list are trimmed of spaces; an empty list is nil. It does not
// validate the value (see Validate).
func (p *Params) Set(key, text string) error {
	f, ok := lookup(key)
	if !ok {
		return fmt.Errorf("unknown parameter %q", key)
	}
	v := reflect.ValueOf(p).Elem().FieldByIndex(f.index)
	switch v.Kind() {
	case reflect.Int:
		x, err := strconv.Atoi(text)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		v.SetInt(int64(x))
	case reflect.Uint64:
		x, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return fmt.Errorf("not an unsigned 64-bit decimal integer")
		}
		v.SetUint(x)
	case reflect.Float64:
		x, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		v.SetFloat(x)
	case reflect.Slice:
		var names []string
		if text != "" {
			names = strings.Split(text, ",")
			for i := range names {
				names[i] = strings.TrimSpace(names[i])
			}
		}
		v.Set(reflect.ValueOf(names))
	default:
		panic("physics: no text form for " + v.Kind().String())
	}
	return nil
}
