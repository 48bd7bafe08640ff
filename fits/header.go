package fits

import (
	"fmt"
	"strconv"
	"strings"
)

// Card is one parsed header card (or, for a long string, the card and its
// CONTINUE cards).
type Card struct {
	// Key is the keyword, upper case; for HIERARCH cards the words after
	// HIERARCH joined by one space ("PARAM SEED"). Commentary cards have
	// the key COMMENT, HISTORY or "".
	Key string
	// Value is nil (no value, or an undefined one), bool, int64 (integers
	// that fit), float64 (reals and larger integers) or string (strings,
	// trailing blanks removed; complex values as written).
	Value any
	// Comment is the text after the value's '/', trimmed.
	Comment string
	// Index is the position of the card in its header, from 0.
	Index int
}

// Header is the cards of one HDU, in file order, END excluded.
type Header struct {
	Cards []Card
}

// Card returns the last card with keyword key (FITS says the last one
// wins when a keyword repeats; commentary cards are never returned).
func (h *Header) Card(key string) (Card, bool) {
	for i := len(h.Cards) - 1; i >= 0; i-- {
		if c := h.Cards[i]; c.Key == key && c.Value != nil {
			return c, true
		}
	}
	return Card{}, false
}

// Has reports whether key has a value.
func (h *Header) Has(key string) bool { _, ok := h.Card(key); return ok }

// String returns the string value of key; ok is false if the card is
// missing, and err says so if it holds another type.
func (h *Header) String(key string) (v string, ok bool, err error) {
	c, ok := h.Card(key)
	if !ok {
		return "", false, nil
	}
	s, isStr := c.Value.(string)
	if !isStr {
		return "", true, fmt.Errorf("card %d (%s): value %v is not a string", c.Index+1, key, c.Value)
	}
	return s, true, nil
}

// Float returns the numeric value of key (integers converted).
func (h *Header) Float(key string) (v float64, ok bool, err error) {
	c, ok := h.Card(key)
	if !ok {
		return 0, false, nil
	}
	switch x := c.Value.(type) {
	case float64:
		return x, true, nil
	case int64:
		return float64(x), true, nil
	}
	return 0, true, fmt.Errorf("card %d (%s): value %v is not a number", c.Index+1, key, c.Value)
}

// Int returns the integer value of key.
func (h *Header) Int(key string) (v int64, ok bool, err error) {
	c, ok := h.Card(key)
	if !ok {
		return 0, false, nil
	}
	if x, isInt := c.Value.(int64); isInt {
		return x, true, nil
	}
	return 0, true, fmt.Errorf("card %d (%s): value %v is not an integer", c.Index+1, key, c.Value)
}

// Bool returns the logical value of key.
func (h *Header) Bool(key string) (v, ok bool, err error) {
	c, ok := h.Card(key)
	if !ok {
		return false, false, nil
	}
	if x, isBool := c.Value.(bool); isBool {
		return x, true, nil
	}
	return false, true, fmt.Errorf("card %d (%s): value %v is not a logical", c.Index+1, key, c.Value)
}

// parseCard parses one 80-character card (i is its index in the header).
func parseCard(raw string, i int) (Card, error) {
	for _, r := range []byte(raw) {
		if r < 0x20 || r > 0x7e {
			return Card{}, fmt.Errorf("card %d: byte 0x%02x is not printable ASCII", i+1, r)
		}
	}
	key := strings.TrimRight(raw[:8], " ")
	c := Card{Key: key, Index: i}
	var rest string
	switch {
	case key == "HIERARCH":
		k, v, ok := strings.Cut(raw[8:], "=")
		if !ok {
			c.Key, c.Comment = "", strings.TrimSpace(raw[8:])
			return c, nil
		}
		c.Key = strings.Join(strings.Fields(strings.ToUpper(k)), " ")
		rest = v
	case key == "CONTINUE":
		rest = raw[8:]
	case raw[8:10] == "= " && key != "COMMENT" && key != "HISTORY" && key != "":
		for _, r := range key {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return c, fmt.Errorf("card %d: keyword %q has a character outside A-Z 0-9 - _", i+1, key)
			}
		}
		rest = raw[10:]
	default: // commentary: COMMENT, HISTORY, blank, or any keyword without a value
		c.Comment = strings.TrimSpace(raw[8:])
		return c, nil
	}
	v, comment, err := parseValue(rest)
	if err != nil {
		return c, fmt.Errorf("card %d (%s): %w", i+1, c.Key, err)
	}
	c.Value, c.Comment = v, comment
	return c, nil
}

// parseValue parses the value field of a card and its comment.
func parseValue(s string) (any, string, error) {
	t := strings.TrimLeft(s, " ")
	if strings.HasPrefix(t, "'") {
		var b strings.Builder
		j := 1
		for {
			k := strings.IndexByte(t[j:], '\'')
			if k < 0 {
				return nil, "", fmt.Errorf("string %s has no closing quote", strings.TrimSpace(t))
			}
			b.WriteString(t[j : j+k])
			j += k + 1
			if j < len(t) && t[j] == '\'' { // a doubled quote
				b.WriteByte('\'')
				j++
				continue
			}
			break
		}
		comment := strings.TrimSpace(t[j:])
		if comment != "" && !strings.HasPrefix(comment, "/") {
			return nil, "", fmt.Errorf("text %q after the string", comment)
		}
		return strings.TrimRight(b.String(), " "), strings.TrimSpace(strings.TrimPrefix(comment, "/")), nil
	}
	val, comment, _ := strings.Cut(t, "/")
	val, comment = strings.TrimSpace(val), strings.TrimSpace(comment)
	switch {
	case val == "":
		return nil, comment, nil
	case val == "T":
		return true, comment, nil
	case val == "F":
		return false, comment, nil
	case strings.HasPrefix(val, "("):
		if !strings.HasSuffix(val, ")") {
			return nil, "", fmt.Errorf("complex value %q has no closing parenthesis", val)
		}
		return val, comment, nil
	}
	if n, err := strconv.ParseInt(strings.TrimPrefix(val, "+"), 10, 64); err == nil {
		return n, comment, nil
	}
	f, err := strconv.ParseFloat(strings.NewReplacer("D", "E", "d", "e").Replace(val), 64)
	if err != nil || strings.ContainsAny(val, "xXpP_") || strings.EqualFold(strings.TrimLeft(val, "+-"), "inf") ||
		strings.EqualFold(strings.TrimLeft(val, "+-"), "infinity") || strings.EqualFold(val, "nan") {
		return nil, "", fmt.Errorf("value %q is not a FITS logical, number or string", val)
	}
	return f, comment, nil
}

// parseHeader parses the cards of one header (up to, not including, END),
// joining long strings continued with CONTINUE cards (a string value
// ending in '&' continues on the next CONTINUE card).
func parseHeader(raw []string) (Header, error) {
	var h Header
	var open *Card // a string card whose value ended in '&'
	for i, r := range raw {
		c, err := parseCard(r, i)
		if err != nil {
			return h, err
		}
		if c.Key == "CONTINUE" {
			s, isStr := c.Value.(string)
			if open == nil || !isStr {
				// A CONTINUE without a string to continue is commentary.
				h.Cards = append(h.Cards, Card{Key: "CONTINUE", Comment: strings.TrimSpace(r[8:]), Index: i})
				open = nil
				continue
			}
			prev := open.Value.(string)
			open.Value = strings.TrimSuffix(prev, "&") + s
			if c.Comment != "" {
				open.Comment = strings.TrimSpace(open.Comment + " " + c.Comment)
			}
			if !strings.HasSuffix(s, "&") {
				open = nil
			}
			continue
		}
		h.Cards = append(h.Cards, c)
		open = nil
		if s, isStr := c.Value.(string); isStr && strings.HasSuffix(s, "&") {
			open = &h.Cards[len(h.Cards)-1]
		}
	}
	// A string ending in '&' with no CONTINUE after it keeps its '&'.
	return h, nil
}
