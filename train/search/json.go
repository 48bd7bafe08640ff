package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseJSON reads a space file in JSON: one object whose keys become
// entries with the line of each key; duplicate keys and trailing data are
// errors.
func parseJSON(data []byte) ([]entry, error) {
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte{'\n'}) }
	wrap := func(dec *json.Decoder, err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("line %d: %v", lineAt(se.Offset), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("line %d: unexpected end of the file", lineAt(int64(len(data))))
		}
		return fmt.Errorf("line %d: %v", lineAt(dec.InputOffset()), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, wrap(dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("line %d: a space file is one JSON object {...}", lineAt(dec.InputOffset()))
	}
	var out []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, wrap(dec, err)
		}
		key := tok.(string) // object keys are strings, or Token fails
		line := lineAt(dec.InputOffset())
		if seen[key] {
			return nil, fmt.Errorf("line %d: %s given twice", line, key)
		}
		seen[key] = true
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return nil, wrap(dec, err)
		}
		v, err := fromJSON(raw, 0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %v", line, key, err)
		}
		out = append(out, entry{key, line, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, wrap(dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("line %d: data after the object", lineAt(dec.InputOffset()))
	}
	return out, nil
}

// fromJSON converts decoded JSON (with json.Number) to the entry value
// types, refusing null and deep nesting.
func fromJSON(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested more than %d deep", maxDepth)
	}
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("%s is not a finite number", v)
		}
		return f, nil
	case string, bool:
		return v, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			var err error
			if out[i], err = fromJSON(x, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			var err error
			if out[k], err = fromJSON(x, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errors.New("null is not a value")
}
