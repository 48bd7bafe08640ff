package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Array is one field to be written: its metadata and its chunks.
type Array struct {
	// Name identifies the field, e.g. "density"; unique within a file.
	Name string
	// Unit is the cgs unit of the values, e.g. "g cm^-3".
	Unit string
	// Shape is the extent of each axis in elements, C order, slowest axis
	// first (e.g. [nz, ny, nx]).
	Shape []int
	// Axes names the axes, same length as Shape (e.g. ["z", "y", "x"]).
	Axes []string
	// Chunks are the pieces of the field; together they must tile Shape
	// exactly. They are stored in this order.
	Chunks []Block
}

// Block is a rectangular piece of an Array.
type Block struct {
	// Start is the index of the block's first element along each axis.
	Start []int
	// Shape is the block's extent along each axis, in elements.
	Shape []int
	// Data holds product(Shape) values in C order within the block, in the
	// unit of the Array.
	Data []float32
}

// Encode writes the complete file to w. The header precedes the data and
// records every chunk's compressed size, so Encode holds all compressed
// chunks in memory until the last is done; Write streams them to disk
// instead and produces identical bytes. h.Format, h.Version and h.Fields
// are filled in from fields; h itself is not modified.
func Encode(w io.Writer, h Header, fields []Array) error {
	var chunks [][]byte
	hdr, err := encode(h, fields, func(_ int64, stored []byte) error {
		chunks = append(chunks, stored)
		return nil
	})
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	for _, c := range chunks {
		if _, err := w.Write(c); err != nil {
			return fmt.Errorf("encode snapshot: %w", err)
		}
	}
	return nil
}

// encode validates the inputs, compresses every chunk concurrently and
// hands the stored bytes to put in file order, with their position in the
// file. It returns the preamble and padded header, which begin the file;
// the data section follows them without a gap.
func encode(h Header, fields []Array, put func(pos int64, stored []byte) error) ([]byte, error) {
	h, blocks, err := plan(h, fields, true)
	if err != nil {
		return nil, err
	}
	// Reserve header room for the largest values offsets and sizes could
	// take, so the data section's position is known before compressing:
	// data can then go straight to its final place, and the layout is
	// the same however the bytes are delivered.
	reserve, err := marshalHeader(&h)
	if err != nil {
		return nil, err
	}
	if len(reserve) > MaxHeaderBytes {
		return nil, fmt.Errorf("header would take %d bytes, more than the %d a reader accepts: use fewer chunks", len(reserve), MaxHeaderBytes)
	}
	dataStart := int64(preambleSize + len(reserve))
	var offset uint64
	err = runOrdered(len(blocks),
		func(i int) (encoded, error) {
			stored, sum, err := EncodeChunk(blocks[i].data)
			return encoded{stored, sum}, err
		},
		func(i int, e encoded) error {
			c := blocks[i].info
			c.Offset, c.StoredBytes, c.XXHash64 = offset, uint64(len(e.stored)), formatSum(e.sum)
			offset += c.StoredBytes
			return put(dataStart+int64(c.Offset), e.stored)
		})
	if err != nil {
		return nil, err
	}
	js, err := marshalHeader(&h)
	if err != nil {
		return nil, err
	}
	if len(js) > len(reserve) {
		return nil, errors.New("internal error: header outgrew its reservation")
	}
	return preamble(js, len(reserve)), nil
}

// encoded is a compressed chunk and the checksum of its raw bytes.
type encoded struct {
	stored []byte
	sum    uint64
}

// plannedBlock ties a block's values to its chunk entry in the header.
type plannedBlock struct {
	data []float32
	info *ChunkInfo
}

// plan builds the header's field table from fields, with placeholder
// storage entries that are at least as long in JSON as the real ones, and
// checks the fields exactly as a reader would. With withData false only
// the geometry is planned and the blocks' Data is ignored.
func plan(h Header, fields []Array, withData bool) (Header, []plannedBlock, error) {
	h.Format, h.Version = FormatName, FormatVersion
	if len(bytes.TrimSpace(h.Params)) == 0 {
		h.Params = json.RawMessage("{}")
	} else if !isJSONObject(h.Params) {
		return h, nil, errors.New("header params must be a JSON object")
	}
	if h.Units == nil {
		h.Units = map[string]string{} // {} rather than null, which readers reject
	}
	h.Fields = make([]FieldInfo, len(fields))
	seen := make(map[string]bool, len(fields))
	var blocks []plannedBlock
	for i, a := range fields {
		if a.Name == "" || seen[a.Name] {
			return h, nil, fmt.Errorf("field %d: name %q is empty or used twice", i, a.Name)
		}
		seen[a.Name] = true
		fi := &h.Fields[i]
		*fi = FieldInfo{Name: a.Name, Unit: a.Unit, DType: DTypeFloat32, Shape: a.Shape, Axes: a.Axes,
			Chunks: make([]ChunkInfo, len(a.Chunks))}
		for j, b := range a.Chunks {
			// A bad block shape gets raw_bytes 0 here and is reported,
			// with the rest of the geometry, by validateGeometry.
			n, ok := elements(b.Shape)
			if withData && ok && uint64(len(b.Data)) != n {
				return h, nil, fmt.Errorf("field %q chunk %d: %d values for shape %v (%d elements)", a.Name, j, len(b.Data), b.Shape, n)
			}
			fi.Chunks[j] = ChunkInfo{Start: b.Start, Shape: b.Shape, RawBytes: valueSize * n,
				Offset: math.MaxUint64, StoredBytes: math.MaxUint64, XXHash64: formatSum(0)}
			blocks = append(blocks, plannedBlock{b.Data, &fi.Chunks[j]})
		}
		if err := validateGeometry(fi); err != nil {
			// Bad input, not a corrupt file: drop the ErrCorrupt mark.
			return h, nil, errors.New(err.Error())
		}
	}
	return h, blocks, nil
}

// isJSONObject reports whether raw is one valid JSON object.
func isJSONObject(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return json.Valid(raw) && len(t) > 0 && t[0] == '{'
}

// marshalHeader encodes h as compact JSON. HTML escaping is off so that
// unit strings and parameters read as written.
func marshalHeader(h *Header) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// preamble returns magic, version, reserved word, header length and the
// header js padded with spaces to headerLen bytes.
func preamble(js []byte, headerLen int) []byte {
	out := make([]byte, 0, preambleSize+headerLen)
	out = append(out, magic...)
	out = binary.LittleEndian.AppendUint32(out, FormatVersion)
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = binary.LittleEndian.AppendUint64(out, uint64(headerLen))
	out = append(out, js...)
	return append(out, bytes.Repeat([]byte(" "), headerLen-len(js))...)
}
