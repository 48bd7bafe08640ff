package snapshot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/turbindex/turbindex/internal/atomicfile"
)

// Writing one file from many processes (MPI ranks) goes like this: every
// rank agrees on a token and the header room (Reserve), rank 0 creates the
// temporary file TempName(path, token), every rank compresses its blocks
// with EncodeChunk and writes them at the data start plus its offset (an
// exclusive scan of the stored sizes), rank 0 gathers the chunk entries,
// writes the header with WriteHeader and renames the file into place with
// Commit. The result is a file like any other: readers cannot tell.

// Reserve returns the number of header bytes to reserve for a file with
// header h and the fields' geometry (their chunks' Data may be nil): enough
// for any chunk offsets and sizes. The data section starts at
// DataStart(reserve).
func Reserve(h Header, fields []Array) (int, error) {
	geometry := make([]Array, len(fields))
	for i, a := range fields {
		geometry[i] = a
		geometry[i].Chunks = make([]Block, len(a.Chunks))
		for j, b := range a.Chunks {
			geometry[i].Chunks[j] = Block{Start: b.Start, Shape: b.Shape}
		}
	}
	planned, _, err := plan(h, geometry, false)
	if err != nil {
		return 0, err
	}
	js, err := marshalHeader(&planned)
	if err != nil {
		return 0, err
	}
	if len(js) > MaxHeaderBytes {
		return 0, fmt.Errorf("header would take %d bytes, more than the %d a reader accepts: use fewer chunks", len(js), MaxHeaderBytes)
	}
	return len(js), nil
}

// DataStart returns the file offset of the data section for a header of
// reserve bytes.
func DataStart(reserve int) int64 { return int64(preambleSize + reserve) }

// TempName returns the hidden temporary file next to path that processes
// sharing token write together.
func TempName(path string, token uint64) string { return atomicfile.TempName(path, token) }

// NewChunkInfo returns the header entry of a chunk with the given start and
// shape whose stored bytes (from EncodeChunk, with checksum sum) lie at
// offset in the data section.
func NewChunkInfo(start, shape []int, offset uint64, stored []byte, sum uint64) ChunkInfo {
	n, _ := elements(shape)
	return ChunkInfo{Start: start, Shape: shape, Offset: offset, StoredBytes: uint64(len(stored)),
		RawBytes: valueSize * n, XXHash64: formatSum(sum)}
}

// WriteHeader checks h (whose Fields hold the final chunk entries) as a
// reader would against a data section of dataBytes, and writes the preamble
// and the header, padded to reserve bytes, at the start of w.
func WriteHeader(w io.WriterAt, h Header, reserve int, dataBytes uint64) error {
	h.Format, h.Version = FormatName, FormatVersion
	if len(h.Params) == 0 {
		h.Params = []byte("{}")
	}
	if err := validateHeader(&h, dataBytes); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	js, err := marshalHeader(&h)
	if err != nil {
		return err
	}
	if len(js) > reserve {
		return fmt.Errorf("header of %d bytes does not fit the %d reserved", len(js), reserve)
	}
	_, err = w.WriteAt(preamble(js, reserve), 0)
	return err
}

// Commit renames the finished temporary file tmp to path and syncs the
// directory. Without force it refuses to replace an existing path.
func Commit(tmp, path string, force bool) error { return atomicfile.Commit(tmp, path, force) }

// CreateShared creates the temporary file name for writing, failing if it
// exists; OpenShared opens it from the other processes.
func CreateShared(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("temporary file %s exists: another writer is active, or remove it", name)
	}
	return f, err
}

// OpenShared opens a temporary file made by CreateShared for writing.
func OpenShared(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY, 0)
}
