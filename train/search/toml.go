package search

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// entry is one top-level key of a space file with its value and the line
// (1-based) where the key is. Values are float64, string, bool, []any and
// map[string]any.
type entry struct {
	key  string
	line int
	val  any
}

// tomlParser reads the subset of TOML a space file needs: top-level
// `key = value` lines with numbers, strings, booleans, arrays (which may
// span lines) and one-line inline tables; comments with #. Everything else
// (tables, dates, multi-line strings, dotted keys) is an error naming the
// line.
type tomlParser struct {
	s    string
	i    int
	line int
}

func (p *tomlParser) errorf(format string, a ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, a...))
}

func (p *tomlParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// blank skips spaces and tabs, and with newlines also newlines and
// comments.
func (p *tomlParser) blank(newlines bool) {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			p.i++
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case c == '\n' && newlines:
			p.i++
			p.line++
		default:
			return
		}
	}
}

func parseTOML(data []byte) ([]entry, error) {
	p := &tomlParser{s: string(data), line: 1}
	var out []entry
	for {
		p.blank(true)
		if p.i >= len(p.s) {
			return out, nil
		}
		if p.peek() == '[' {
			return nil, p.errorf("tables ([...]) are not used in a space file: write every setting as key = value")
		}
		start := p.i
		for p.i < len(p.s) && isBare(p.s[p.i]) {
			p.i++
		}
		key := p.s[start:p.i]
		if key == "" {
			return nil, p.errorf("want a key (letters, digits, _ or -), found %q", p.rest())
		}
		line := p.line
		p.blank(false)
		if p.peek() != '=' {
			return nil, p.errorf("%s: want = after the key, found %q", key, p.rest())
		}
		p.i++
		p.blank(false)
		v, err := p.value(key, 0)
		if err != nil {
			return nil, err
		}
		p.blank(false)
		if c := p.peek(); c != '\n' && c != 0 {
			return nil, p.errorf("%s: unexpected %q after the value", key, p.rest())
		}
		out = append(out, entry{key, line, v})
	}
}

// rest is the remainder of the current line, shortened, for errors.
func (p *tomlParser) rest() string {
	r := p.s[p.i:]
	if j := strings.IndexByte(r, '\n'); j >= 0 {
		r = r[:j]
	}
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// maxDepth bounds the nesting of arrays and tables.
const maxDepth = 8

func (p *tomlParser) value(key string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("%s: nested more than %d deep", key, maxDepth)
	}
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		return p.str(key)
	case c == '[':
		p.i++
		arr := []any{}
		for {
			p.blank(true)
			if p.peek() == ']' {
				p.i++
				return arr, nil
			}
			if p.i >= len(p.s) {
				return nil, p.errorf("%s: array not closed with ]", key)
			}
			v, err := p.value(key, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.blank(true)
			switch p.peek() {
			case ',':
				p.i++
			case ']':
			case 0:
				return nil, p.errorf("%s: array not closed with ]", key)
			default:
				return nil, p.errorf("%s: want , or ] in the array, found %q", key, p.rest())
			}
		}
	case c == '{':
		p.i++
		tab := map[string]any{}
		for {
			p.blank(false)
			if p.peek() == '}' && len(tab) == 0 {
				p.i++
				return tab, nil
			}
			start := p.i
			for p.i < len(p.s) && isBare(p.s[p.i]) {
				p.i++
			}
			k := p.s[start:p.i]
			if k == "" {
				return nil, p.errorf("%s: want a key in the inline table, found %q", key, p.rest())
			}
			if _, dup := tab[k]; dup {
				return nil, p.errorf("%s: %s given twice", key, k)
			}
			p.blank(false)
			if p.peek() != '=' {
				return nil, p.errorf("%s.%s: want =, found %q", key, k, p.rest())
			}
			p.i++
			p.blank(false)
			v, err := p.value(key+"."+k, depth+1)
			if err != nil {
				return nil, err
			}
			tab[k] = v
			p.blank(false)
			switch p.peek() {
			case ',':
				p.i++
			case '}':
				p.i++
				return tab, nil
			default:
				return nil, p.errorf("%s: want , or } in the inline table (one line), found %q", key, p.rest())
			}
		}
	default:
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(" \t\r\n,]}#", rune(p.s[p.i])) {
			p.i++
		}
		tok := p.s[start:p.i]
		switch tok {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "":
			return nil, p.errorf("%s: missing value", key)
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(tok, "_", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.Contains(tok, "__") ||
			strings.HasPrefix(tok, "_") || strings.HasSuffix(tok, "_") || strings.ContainsAny(tok, "xXoObBpP") {
			return nil, p.errorf("%s: %q is not a number, string, boolean, array or table", key, tok)
		}
		return f, nil
	}
}

func (p *tomlParser) str(key string) (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\n':
			return "", p.errorf("%s: string not closed on its line", key)
		case c == '\\' && q == '"':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("%s: string not closed", key)
			}
			e := p.s[p.i+1]
			r, ok := map[byte]byte{'"': '"', '\\': '\\', 'n': '\n', 't': '\t'}[e]
			if !ok {
				return "", p.errorf("%s: escape \\%c is not supported in a space file", key, e)
			}
			b.WriteByte(r)
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errorf("%s: string not closed", key)
}
