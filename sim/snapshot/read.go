package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode/utf8"
)

// File is an open snapshot whose preamble and header have been validated.
// Its methods may be called concurrently.
type File struct {
	// Path is the file name used in error messages.
	Path string
	// Header is the validated header. Treat it as read-only.
	Header Header

	r         io.ReaderAt
	closer    io.Closer // nil when the caller owns r
	dataStart int64     // D, file position of the data section
	size      int64     // file size in bytes
}

// Open opens the snapshot at path and validates its preamble and header
// (not the chunk contents; see Read and Verify). Close the File when done.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := Decode(osf, st.Size(), path)
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.closer = osf
	return f, nil
}

// Decode validates the preamble and header of a snapshot of size bytes
// read through r, as Open does; name is used in error messages. The caller
// keeps ownership of r, which must stay readable while the File is used.
func Decode(r io.ReaderAt, size int64, name string) (*File, error) {
	f := &File{Path: name, r: r, size: size}
	if err := f.decodeHeader(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return f, nil
}

// decodeHeader reads and validates the preamble and the header.
func (f *File) decodeHeader() error {
	if f.size < preambleSize {
		return corruptf("file is %d bytes, shorter than the %d-byte preamble: truncated or not a snapshot", max(f.size, 0), preambleSize)
	}
	var pre [preambleSize]byte
	if err := readFull(f.r, pre[:], 0); err != nil {
		return err
	}
	if err := checkMagic(pre[:8]); err != nil {
		return err
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != FormatVersion {
		return corruptf("unsupported format version %d (this reader reads version %d)", v, FormatVersion)
	}
	if v := binary.LittleEndian.Uint32(pre[12:]); v != 0 {
		return corruptf("reserved preamble word is %#x, want 0", v)
	}
	hlen := binary.LittleEndian.Uint64(pre[16:])
	if hlen > MaxHeaderBytes {
		return corruptf("header length %d exceeds the limit of %d bytes", hlen, MaxHeaderBytes)
	}
	if int64(hlen) > f.size-preambleSize {
		return corruptf("header length %d runs past the end of the file (%d bytes): truncated?", hlen, f.size)
	}
	// hlen is now bounded by both the limit and the file size.
	buf := make([]byte, hlen)
	if err := readFull(f.r, buf, preambleSize); err != nil {
		return err
	}
	if !utf8.Valid(buf) {
		return corruptf("header is not valid UTF-8")
	}
	if err := json.Unmarshal(buf, &f.Header); err != nil {
		return corruptf("header JSON: %v", err)
	}
	if err := checkDuplicateKeys(buf); err != nil {
		return err
	}
	if err := checkKeys(buf); err != nil {
		return err
	}
	f.dataStart = preambleSize + int64(hlen)
	return validateHeader(&f.Header, uint64(f.size-f.dataStart))
}

// readFull reads len(buf) bytes at off. A ReaderAt may report io.EOF
// along with a complete read at the end of its input; that is success here,
// and a short read means the file shrank after its size was taken.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	switch {
	case n == len(buf):
		return nil
	case err == nil || errors.Is(err, io.EOF):
		return corruptf("file ended at byte %d, before its stated size: truncated while open?", off+int64(n))
	default:
		return err
	}
}

// checkMagic checks the 8 magic bytes, recognising the usual damage.
func checkMagic(b []byte) error {
	switch {
	case string(b) == magic:
		return nil
	case bytes.HasPrefix(b[1:], []byte("TSNAP")):
		return corruptf("magic bytes %q are mangled, want %q (was the file transferred in text mode?)", b, magic)
	default:
		return corruptf("not a tsnap file (magic bytes %q, want %q)", b, magic)
	}
}

// Field returns the header entry of the named field. The result points into
// f.Header and must not be modified.
func (f *File) Field(name string) (*FieldInfo, error) {
	for i := range f.Header.Fields {
		if f.Header.Fields[i].Name == name {
			return &f.Header.Fields[i], nil
		}
	}
	names := make([]string, len(f.Header.Fields))
	for i, fi := range f.Header.Fields {
		names[i] = fi.Name
	}
	return nil, fmt.Errorf("read %s: no field %q (fields: %s)", f.Path, name, strings.Join(names, ", "))
}

// Read returns the whole named field in C order (len = product of its
// shape), assembled from its chunks, each decompressed and checked against
// raw_bytes and its checksum. Values are in the field's unit.
func (f *File) Read(name string) ([]float32, error) {
	fi, err := f.Field(name)
	if err != nil {
		return nil, err
	}
	total, _ := elements(fi.Shape) // validated
	if total > math.MaxInt {
		return nil, fmt.Errorf("read %s: field %q has %d elements, too many for this platform", f.Path, name, total)
	}
	// The validated header bounds total by maxExpansion × file size, so
	// this allocation is never larger than the data could justify.
	out := make([]float32, total)
	err = runOrdered(len(fi.Chunks), func(j int) (struct{}, error) {
		vals, err := f.chunk(fi, j)
		if err != nil {
			return struct{}{}, err
		}
		// Validated chunks are disjoint, so concurrent copies do not race.
		scatter(out, fi.Shape, fi.Chunks[j].Start, fi.Chunks[j].Shape, vals)
		return struct{}{}, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Verify decodes every chunk of every field and checks its size and
// checksum. The error names the first bad chunk in file-table order.
func (f *File) Verify() error {
	type ref struct{ field, chunk int }
	var refs []ref
	for i, fi := range f.Header.Fields {
		for j := range fi.Chunks {
			refs = append(refs, ref{i, j})
		}
	}
	return runOrdered(len(refs), func(k int) (struct{}, error) {
		_, err := f.chunk(&f.Header.Fields[refs[k].field], refs[k].chunk)
		return struct{}{}, err
	}, nil)
}

// chunk reads, decodes and verifies chunk j of field fi.
func (f *File) chunk(fi *FieldInfo, j int) ([]float32, error) {
	c := &fi.Chunks[j]
	// Validated: the stored bytes lie inside the file.
	stored := make([]byte, c.StoredBytes)
	if err := readFull(f.r, stored, f.dataStart+int64(c.Offset)); err != nil {
		return nil, fmt.Errorf("read %s: field %q chunk %d: %w", f.Path, fi.Name, j, err)
	}
	vals, err := decodeChunk(stored, c)
	if err != nil {
		return nil, fmt.Errorf("read %s: field %q chunk %d: %w", f.Path, fi.Name, j, err)
	}
	return vals, nil
}

// Close closes the underlying file if Open opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	if err := f.closer.Close(); err != nil {
		return fmt.Errorf("read %s: close: %w", f.Path, err)
	}
	return nil
}

// scatter copies block values (C order within the block at start/bshape)
// into dst, a C-order array of shape shape, one contiguous row at a time.
func scatter(dst []float32, shape, start, bshape []int, src []float32) {
	nd := len(shape)
	rowLen := bshape[nd-1]
	// strides[d] is the distance in dst between neighbours along axis d.
	strides := make([]int, nd)
	strides[nd-1] = 1
	for d := nd - 2; d >= 0; d-- {
		strides[d] = strides[d+1] * shape[d+1]
	}
	idx := make([]int, nd) // position within the block; idx[nd-1] stays 0
	for s := 0; s < len(src); s += rowLen {
		off := 0
		for d := range nd {
			off += (start[d] + idx[d]) * strides[d]
		}
		copy(dst[off:off+rowLen], src[s:s+rowLen])
		// Advance the odometer over all axes but the last.
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < bshape[d] {
				break
			}
			idx[d] = 0
		}
	}
}
