package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/turbindex/turbindex/internal/atomicfile"
)

// Cache file format, version 1: see CachePath.
const (
	cacheMagic  = "TZIMG\x00\x00\x01"
	cacheHeader = 40
)

// CachePath returns the cache file of simulation id at image side size
// (pixels) in directory dir: dir/<id>-<size>.zimg.
//
// A cache file holds the decoded images of one simulation at one size:
//
//	offset  size  content
//	0       8     magic "TZIMG\x00\x00\x01" (the last byte is the version)
//	8       8     key: xxhash64 of the snapshot's Σ field table (names,
//	              shapes, chunk extents and chunk checksums), uint64 LE
//	16      4     size: image side in pixels, uint32 LE
//	20      4     count: number of images, 48, uint32 LE
//	24      8     xxhash64 of the raw pixels (count·size² float32 LE), uint64 LE
//	32      8     length of the compressed payload in bytes, uint64 LE
//	40      …     payload: the raw bytes byte-shuffled (all first bytes of
//	              the values, then all second bytes, …) as one zstd frame
//
// The images are in ImageIndex order; labels are not stored (they follow from
// the manifest row and the order).
//
// A cache file is written atomically (temporary file, synced, renamed). The
// key changes whenever the snapshot's Σ maps do; the magic's version changes
// whenever the images cut from the same maps would.
func CachePath(dir, id string, size int) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%d.zimg", id, size))
}

var encoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
})

// readCache returns the 48 images of size² pixels stored at path if its key
// is key. A missing file gives an error matching fs.ErrNotExist; any other
// problem (corrupt, stale, of another size) an error saying what.
func readCache(path string, key uint64, size int) ([]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < cacheHeader || string(data[:8]) != cacheMagic {
		return nil, errors.New("not a cache file of this version (bad magic)")
	}
	le := binary.LittleEndian
	gotKey, gotSize, count := le.Uint64(data[8:]), le.Uint32(data[16:]), le.Uint32(data[20:])
	sum, stored := le.Uint64(data[24:]), le.Uint64(data[32:])
	switch {
	case gotKey != key:
		return nil, errors.New("stale: the snapshot changed since it was written")
	case int64(gotSize) != int64(size) || count != PerSnapshot:
		return nil, fmt.Errorf("holds %d images of %d², want %d of %d²", count, gotSize, PerSnapshot, size)
	case stored != uint64(len(data)-cacheHeader):
		return nil, fmt.Errorf("payload is %d bytes, header says %d (truncated?)", len(data)-cacheHeader, stored)
	}
	values := PerSnapshot * size * size
	dec, err := zstd.NewReader(bytes.NewReader(data[cacheHeader:]), zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(4*values)+1<<20))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	shuffled := make([]byte, 4*values)
	if _, err := io.ReadFull(dec, shuffled); err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	if n, _ := dec.Read(make([]byte, 1)); n != 0 {
		return nil, errors.New("payload longer than its images")
	}
	raw := unshuffle(shuffled)
	if xxhash.Sum64(raw) != sum {
		return nil, errors.New("checksum mismatch")
	}
	pix := make([]float32, values)
	for i := range pix {
		pix[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
	}
	return pix, nil
}

// writeCache stores the images pix (48 of size² pixels) at path atomically:
// a temporary file in the same directory, synced and renamed into place.
func writeCache(path string, key uint64, size int, pix []float32) (err error) {
	enc, err := encoder()
	if err != nil {
		return err
	}
	raw := make([]byte, 4*len(pix))
	for i, v := range pix {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	payload := enc.EncodeAll(shuffle(raw), nil)
	hd := make([]byte, 0, cacheHeader)
	hd = append(hd, cacheMagic...)
	hd = binary.LittleEndian.AppendUint64(hd, key)
	hd = binary.LittleEndian.AppendUint32(hd, uint32(size))
	hd = binary.LittleEndian.AppendUint32(hd, PerSnapshot)
	hd = binary.LittleEndian.AppendUint64(hd, xxhash.Sum64(raw))
	hd = binary.LittleEndian.AppendUint64(hd, uint64(len(payload)))
	return atomicfile.WriteBytes(path, hd, payload)
}

// shuffle returns the bytes of 4-byte values regrouped by byte position.
func shuffle(raw []byte) []byte {
	n := len(raw) / 4
	out := make([]byte, len(raw))
	for i := range n {
		for b := range 4 {
			out[b*n+i] = raw[4*i+b]
		}
	}
	return out
}

// unshuffle inverts shuffle.
func unshuffle(s []byte) []byte {
	n := len(s) / 4
	out := make([]byte, len(s))
	for i := range n {
		for b := range 4 {
			out[4*i+b] = s[b*n+i]
		}
	}
	return out
}
