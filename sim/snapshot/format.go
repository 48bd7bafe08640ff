package snapshot

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Format constants of .tsnap version 1; see docs/FORMAT.md.
const (
	// FormatName is the value of the header's "format" key.
	FormatName = "tsnap"
	// FormatVersion is the only format version this package reads and writes.
	FormatVersion = 1
	// DTypeFloat32 is the only field dtype of version 1: IEEE 754 binary32,
	// little-endian.
	DTypeFloat32 = "float32"

	// magic opens every file. The leading non-ASCII byte and the CR LF pair
	// catch 7-bit and text-mode transfers, as in PNG.
	magic = "\x89TSNAP\r\n"
	// preambleSize is the size in bytes of magic, version, reserved and
	// header length.
	preambleSize = 24
	// MaxHeaderBytes is the largest header length H (bytes) a reader accepts.
	MaxHeaderBytes = 64 << 20
	// MaxWindowBytes is the largest zstd window a chunk's frame may need
	// (128 MiB, libzstd's default decoding limit, so that stock decoders
	// read every valid file).
	MaxWindowBytes = 128 << 20
	// MaxFieldElements is the largest number of elements in one field.
	MaxFieldElements = 1 << 34
	// maxExpansion bounds raw_bytes/stored_bytes of a chunk: a zstd block
	// of at least 4 bytes (an RLE block) decodes to at most 128 KiB, so no
	// valid frame expands more than 32768-fold. Checking it lets a reader
	// refuse absurd sizes before allocating anything.
	maxExpansion = 32768
	// valueSize is the size in bytes of one float32.
	valueSize = 4
)

// ErrCorrupt is matched (with errors.Is) by every error that reports a
// malformed or corrupt snapshot, as opposed to an I/O failure.
var ErrCorrupt = errors.New("corrupt snapshot")

// corruptError is a format violation. It prints only its message but
// matches ErrCorrupt, so messages stay short and callers can still test it.
type corruptError struct{ msg string }

func (e *corruptError) Error() string        { return e.msg }
func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }

// corruptf returns a corruptError with a formatted message.
func corruptf(format string, args ...any) error {
	return &corruptError{msg: fmt.Sprintf(format, args...)}
}

// Header is the JSON header of a snapshot. Physical quantities are in cgs
// units unless the key says otherwise. The JSON keys are given in the tags;
// docs/FORMAT.md documents each.
type Header struct {
	// Format is always FormatName ("tsnap"); Write fills it in.
	Format string `json:"format"`
	// Version is the format version, FormatVersion; Write fills it in.
	Version int `json:"version"`
	// CodeVersion identifies the producing code (e.g. a git describe string).
	CodeVersion string `json:"code_version"`
	// Problem names the simulated problem, e.g. "turbulence".
	Problem string `json:"problem"`
	// Params holds the producer's run parameters, a JSON object stored
	// verbatim (up to insignificant whitespace). Write stores {} if empty.
	Params json.RawMessage `json:"params"`
	// Units maps a quantity ("length", "density", "velocity",
	// "column_density", "time", ...) to its cgs unit string, e.g. "g cm^-3".
	Units map[string]string `json:"units"`
	// Grid is the number of cells along x, y and z.
	Grid [3]int `json:"grid"`
	// BoxCm is the box edge length along x, y and z, in cm.
	BoxCm [3]float64 `json:"box_cm"`
	// TimeS is the simulated time of the snapshot, in s.
	TimeS float64 `json:"time_s"`
	// TimeMyr is TimeS in Myr (1 Myr = 3.15576e13 s, Julian years).
	TimeMyr float64 `json:"time_myr"`
	// Steps is the number of time steps taken.
	Steps int `json:"steps"`
	// WallSeconds is the wall-clock duration of the run, in s.
	WallSeconds float64 `json:"wall_seconds"`
	// Ranks is the number of MPI ranks that ran the simulation.
	Ranks int `json:"ranks"`
	// Decomposition is the number of ranks along x, y and z.
	Decomposition [3]int `json:"decomposition"`
	// Fields is the field table; Write fills it in.
	Fields []FieldInfo `json:"fields"`
}

// FieldInfo is a field entry of the header: one n-dimensional float32 array.
type FieldInfo struct {
	// Name identifies the field, e.g. "density"; unique within a file.
	Name string `json:"name"`
	// Unit is the cgs unit of the values, e.g. "g cm^-3".
	Unit string `json:"unit"`
	// DType is the element type; DTypeFloat32 is the only one in version 1.
	DType string `json:"dtype"`
	// Shape is the extent of each axis in elements, in C order (slowest
	// varying axis first), e.g. [nz, ny, nx] for a cube.
	Shape []int `json:"shape"`
	// Axes names each axis of Shape, e.g. ["z", "y", "x"].
	Axes []string `json:"axes"`
	// Chunks are the stored pieces of the field; they tile it exactly.
	Chunks []ChunkInfo `json:"chunks"`
}

// ChunkInfo is a chunk entry of the header: a rectangular piece of a field
// and where its bytes are.
type ChunkInfo struct {
	// Start is the index of the chunk's first element along each axis.
	Start []int `json:"start"`
	// Shape is the chunk's extent along each axis, in elements.
	Shape []int `json:"shape"`
	// Offset is the position in bytes of the stored bytes, relative to the
	// start of the data section.
	Offset uint64 `json:"offset"`
	// StoredBytes is the size in bytes of the stored (compressed) bytes.
	StoredBytes uint64 `json:"stored_bytes"`
	// RawBytes is the size in bytes of the raw values, 4 × product(Shape).
	RawBytes uint64 `json:"raw_bytes"`
	// XXHash64 is the xxhash64 (seed 0) of the raw bytes as 16 lowercase
	// hex digits.
	XXHash64 string `json:"xxhash64"`
}

// elements returns the product of shape, or ok=false if an entry is not
// positive or the product exceeds MaxFieldElements. It never overflows.
func elements(shape []int) (n uint64, ok bool) {
	n = 1
	for _, s := range shape {
		if s <= 0 || uint64(s) > MaxFieldElements {
			return 0, false
		}
		n *= uint64(s)
		if n > MaxFieldElements {
			return 0, false
		}
	}
	return n, true
}

// formatSum formats a checksum the way the header stores it.
func formatSum(sum uint64) string { return fmt.Sprintf("%016x", sum) }

// parseSum parses a header checksum: exactly 16 lowercase hex digits.
func parseSum(s string) (uint64, bool) {
	if len(s) != 16 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil
}

// validateHeader applies the header rules of docs/FORMAT.md. dataSize is
// the number of bytes from the start of the data section to the end of
// the file. Errors name the field and chunk; the caller adds the file.
func validateHeader(h *Header, dataSize uint64) error {
	if h.Format != FormatName {
		return corruptf("header format is %q, want %q", h.Format, FormatName)
	}
	if h.Version != FormatVersion {
		return corruptf("header version is %d, preamble says %d", h.Version, FormatVersion)
	}
	seen := make(map[string]bool, len(h.Fields))
	for i := range h.Fields {
		fi := &h.Fields[i]
		if fi.Name == "" {
			return corruptf("field %d: empty name", i)
		}
		if seen[fi.Name] {
			return corruptf("field %q: duplicate name", fi.Name)
		}
		seen[fi.Name] = true
		if fi.DType != DTypeFloat32 {
			return corruptf("field %q: dtype is %q, want %q", fi.Name, fi.DType, DTypeFloat32)
		}
		if err := validateGeometry(fi); err != nil {
			return err
		}
		if err := validateStorage(fi, dataSize); err != nil {
			return err
		}
	}
	return validateDisjointStorage(h.Fields)
}

// validateGeometry checks a field's shape and axes, and that its chunks lie
// inside it, have consistent raw_bytes, and tile it exactly. The writer
// uses it too, so what Write accepts is exactly what a reader accepts.
func validateGeometry(fi *FieldInfo) error {
	total, ok := elements(fi.Shape)
	if len(fi.Shape) == 0 || !ok {
		return corruptf("field %q: bad shape %v (need at least one axis, entries > 0, at most 2^34 elements)", fi.Name, fi.Shape)
	}
	if len(fi.Axes) != len(fi.Shape) {
		return corruptf("field %q: %d axis names for %d axes", fi.Name, len(fi.Axes), len(fi.Shape))
	}
	var covered uint64
	for j := range fi.Chunks {
		c := &fi.Chunks[j]
		n, err := chunkInside(fi.Shape, c)
		if err != nil {
			return corruptf("field %q chunk %d: %v", fi.Name, j, err)
		}
		if c.RawBytes != valueSize*n {
			return corruptf("field %q chunk %d: raw_bytes is %d, want 4 × %d elements = %d", fi.Name, j, c.RawBytes, n, valueSize*n)
		}
		covered += n // ≤ len(Chunks) × 2^34: no overflow for any header ≤ 64 MiB
	}
	// Inside the field and pairwise disjoint, the chunks tile it exactly
	// iff they cover as many elements as it has.
	if a, b, found := findOverlap(fi.Chunks); found {
		return corruptf("field %q: chunks %d and %d overlap", fi.Name, a, b)
	}
	if covered != total {
		return corruptf("field %q: chunks cover %d of its %d elements (chunks must tile the field exactly)", fi.Name, covered, total)
	}
	return nil
}

// chunkInside checks that c has the field's rank and lies inside shape, and
// returns its number of elements.
func chunkInside(shape []int, c *ChunkInfo) (uint64, error) {
	if len(c.Start) != len(shape) || len(c.Shape) != len(shape) {
		return 0, fmt.Errorf("start %v and shape %v must have %d entries", c.Start, c.Shape, len(shape))
	}
	for d := range shape {
		if c.Start[d] < 0 || c.Shape[d] <= 0 || c.Shape[d] > shape[d] || c.Start[d] > shape[d]-c.Shape[d] {
			return 0, fmt.Errorf("start %v shape %v is not inside field shape %v", c.Start, c.Shape, shape)
		}
	}
	n, _ := elements(c.Shape) // inside a valid field, so within bounds
	return n, nil
}

// findOverlap reports two chunks (by index) that share an element. It
// sweeps along the first axis so that only chunks whose first-axis ranges
// intersect are compared: O(n log n + n·k) for k chunks per slab, which is
// the number of ranks in a plane for a rank decomposition.
func findOverlap(chunks []ChunkInfo) (a, b int, found bool) {
	order := make([]int, len(chunks))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(chunks[i].Start[0], chunks[j].Start[0]) })
	var active []int
	for _, i := range order {
		ci := &chunks[i]
		// Drop chunks that end before this one starts along axis 0.
		active = slices.DeleteFunc(active, func(j int) bool {
			return chunks[j].Start[0]+chunks[j].Shape[0] <= ci.Start[0]
		})
		for _, j := range active {
			if boxesIntersect(ci, &chunks[j]) {
				return min(i, j), max(i, j), true
			}
		}
		active = append(active, i)
	}
	return 0, 0, false
}

// boxesIntersect reports whether two chunks of the same rank share an element.
func boxesIntersect(p, q *ChunkInfo) bool {
	for d := range p.Start {
		if p.Start[d] >= q.Start[d]+q.Shape[d] || q.Start[d] >= p.Start[d]+p.Shape[d] {
			return false
		}
	}
	return true
}

// validateStorage checks where a field's chunks are stored: inside the data
// section, with a plausible compression ratio and a well-formed checksum.
func validateStorage(fi *FieldInfo, dataSize uint64) error {
	for j := range fi.Chunks {
		c := &fi.Chunks[j]
		if c.Offset > dataSize || c.StoredBytes > dataSize-c.Offset {
			return corruptf("field %q chunk %d: stored bytes [%d, +%d) run past the end of the data section (%d bytes): truncated file?",
				fi.Name, j, c.Offset, c.StoredBytes, dataSize)
		}
		// c.RawBytes ≤ 2^36 here, so the product cannot overflow unless
		// StoredBytes is already ≥ RawBytes.
		if c.StoredBytes < c.RawBytes && c.RawBytes > maxExpansion*c.StoredBytes {
			return corruptf("field %q chunk %d: stored_bytes %d cannot hold raw_bytes %d (zstd expands at most %d-fold)",
				fi.Name, j, c.StoredBytes, c.RawBytes, maxExpansion)
		}
		if _, ok := parseSum(c.XXHash64); !ok {
			return corruptf("field %q chunk %d: xxhash64 %q is not 16 lowercase hex digits", fi.Name, j, c.XXHash64)
		}
	}
	return nil
}

// validateDisjointStorage checks that no two chunks share stored bytes.
// Besides catching a corrupt table, it bounds the total decoded size of a
// file by maxExpansion × file size, which keeps allocations honest.
func validateDisjointStorage(fields []FieldInfo) error {
	type span struct {
		off, end   uint64
		field, idx int
	}
	var spans []span
	for i := range fields {
		for j, c := range fields[i].Chunks {
			spans = append(spans, span{c.Offset, c.Offset + c.StoredBytes, i, j})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.off, b.off) })
	for k := 1; k < len(spans); k++ {
		p, q := spans[k-1], spans[k]
		if q.off < p.end {
			return corruptf("field %q chunk %d and field %q chunk %d: stored byte ranges overlap",
				fields[p.field].Name, p.idx, fields[q.field].Name, q.idx)
		}
	}
	return nil
}

// checkDuplicateKeys rejects a JSON text in which an object, at any depth
// (params included), has the same key twice: decoders disagree on which
// one counts (encoding/json and Python take the last, others the first or
// fail). It expects syntactically valid JSON.
func checkDuplicateKeys(js []byte) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	// One entry per open container: the keys seen (nil for an array) and
	// whether the next string token is a key.
	type frame struct {
		keys  map[string]bool
		isKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return corruptf("header JSON: %v", err)
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{keys: map[string]bool{}, isKey: true})
				continue
			case '[':
				stack = append(stack, frame{})
				continue
			default:
				stack = stack[:top]
			}
		case string:
			if top >= 0 && stack[top].keys != nil && stack[top].isKey {
				if stack[top].keys[t] {
					return corruptf("header JSON: duplicate key %q in an object", t)
				}
				stack[top].keys[t] = true
				stack[top].isKey = false
				continue
			}
		}
		// A value ended: in an object, a key comes next.
		if top := len(stack) - 1; top >= 0 && stack[top].keys != nil {
			stack[top].isKey = true
		}
	}
}

// Keys every header object, field entry and chunk entry must have. They
// are checked separately because encoding/json silently leaves a missing
// key at its zero value, and a missing "offset" would read as 0.
var (
	headerKeys = []string{"format", "version", "code_version", "problem", "params", "units", "grid",
		"box_cm", "time_s", "time_myr", "steps", "wall_seconds", "ranks", "decomposition", "fields"}
	fieldKeys  = []string{"name", "unit", "dtype", "shape", "axes", "chunks"}
	chunkKeys  = []string{"start", "shape", "offset", "stored_bytes", "raw_bytes", "xxhash64"}
	tripleKeys = []string{"grid", "box_cm", "decomposition"}
)

// checkKeys checks that the header JSON has every required key, none of
// them null, and that the x, y, z triples have exactly 3 entries (which
// encoding/json would otherwise pad or truncate). Types are checked by the
// decoding into Header.
func checkKeys(js []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return corruptf("header JSON: %v", err)
	}
	if err := hasKeys(top, headerKeys, "header"); err != nil {
		return err
	}
	if !isJSONObject(top["params"]) {
		return corruptf("header: \"params\" must be a JSON object, got %.40s", top["params"])
	}
	for _, k := range tripleKeys {
		var xyz []json.RawMessage
		if err := json.Unmarshal(top[k], &xyz); err != nil || len(xyz) != 3 {
			return corruptf("header: %q must be an array of 3 numbers, got %s", k, top[k])
		}
	}
	var fields []map[string]json.RawMessage
	if err := json.Unmarshal(top["fields"], &fields); err != nil {
		return corruptf("header JSON: fields: %v", err)
	}
	for i, f := range fields {
		if err := hasKeys(f, fieldKeys, fmt.Sprintf("field %d", i)); err != nil {
			return err
		}
		var chunks []map[string]json.RawMessage
		if err := json.Unmarshal(f["chunks"], &chunks); err != nil {
			return corruptf("header JSON: field %d: chunks: %v", i, err)
		}
		for j, c := range chunks {
			if err := hasKeys(c, chunkKeys, fmt.Sprintf("field %d chunk %d", i, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasKeys reports the first of keys that obj lacks or has as null, or a
// key of obj that differs from one of keys only in case: encoding/json
// would take it for that key, other readers would ignore it.
func hasKeys(obj map[string]json.RawMessage, keys []string, where string) error {
	if obj == nil {
		return corruptf("%s: not a JSON object", where)
	}
	for k := range obj {
		for _, want := range keys {
			if k != want && strings.EqualFold(k, want) {
				return corruptf("%s: key %q differs from %q only in case", where, k, want)
			}
		}
	}
	for _, k := range keys {
		v, ok := obj[k]
		if !ok {
			return corruptf("%s: missing key %q", where, k)
		}
		if string(v) == "null" {
			return corruptf("%s: key %q is null", where, k)
		}
	}
	return nil
}
