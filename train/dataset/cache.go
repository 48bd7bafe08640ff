package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/turbindex/turbindex/internal/atomicfile"
)

// Cache file format, version 2: see CachePath.
const (
	cacheMagic  = "TZIMG\x00\x00\x02"
	cacheHeader = 24 // magic, key, size, count
	cacheEntry  = 32 // per image: length, checksum, sum, m2
)

// CachePath returns the cache file of simulation id at image side size
// (pixels) in directory dir: dir/<id>-<size>.zimg.
//
// A cache file holds the decoded images of one simulation at one size, each
// image compressed on its own so that a reader can decode any one of them
// without the others (Stream reads images in a random order):
//
//	offset    size      content
//	0         8         magic "TZIMG\x00\x00\x02" (the last byte is the version)
//	8         8         key: xxhash64 of the snapshot's Σ field table (names,
//	                    shapes, chunk extents and chunk checksums), uint64 LE
//	16        4         size: image side in pixels, uint32 LE
//	20        4         count: number of images, 48, uint32 LE
//	24        32·count  table, one entry per image in ImageIndex order:
//	                    length of its compressed frame in bytes (uint64 LE),
//	                    xxhash64 of the frame's content (the byte-shuffled
//	                    pixels, size² float32 LE; uint64 LE),
//	                    the sum of its pixels and the sum of their squared
//	                    deviations from the image's mean (float64 LE each,
//	                    computed in float64: the standardisation statistics
//	                    of a split follow from the table alone)
//	24+32·c   8         xxhash64 of bytes [0, 24+32·count), uint64 LE
//	…                   the frames, one after the other: each image's raw bytes
//	                    byte-shuffled (all first bytes of the values, then all
//	                    second bytes, …) as one zstd frame
//
// Labels are not stored (they follow from the manifest row and the order).
//
// A cache file is written atomically (temporary file, synced, renamed). The
// key changes whenever the snapshot's Σ maps do; the magic's version changes
// whenever the images cut from the same maps, or the layout, would.
func CachePath(dir, id string, size int) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%d.zimg", id, size))
}

var encoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
})

// frame is one image's entry in a cache file's table.
type frame struct {
	off, length int64   // where its compressed bytes lie in the file
	sum         uint64  // xxhash64 of the raw pixels
	psum, m2    float64 // Σ v and Σ (v − mean)² over its pixels
}

// cacheIndex is the parsed header and table of a cache file.
type cacheIndex struct {
	key    uint64
	size   int
	frames []frame
}

// tableLen is the length of a cache file's header and table (with its
// checksum) for count images.
func tableLen(count int) int { return cacheHeader + cacheEntry*count + 8 }

// parseIndex parses the header and table at the start of a cache file of
// fileLen bytes, checking that it holds PerSnapshot images of size² pixels
// under key, and that its frames fill the file exactly.
func parseIndex(head []byte, fileLen int64, key uint64, size int) (*cacheIndex, error) {
	if len(head) < cacheHeader || string(head[:8]) != cacheMagic {
		return nil, errors.New("not a cache file of this version (bad magic)")
	}
	le := binary.LittleEndian
	gotKey, gotSize, count := le.Uint64(head[8:]), le.Uint32(head[16:]), le.Uint32(head[20:])
	switch {
	case gotKey != key:
		return nil, errors.New("stale: the snapshot changed since it was written")
	case int64(gotSize) != int64(size) || count != PerSnapshot:
		return nil, fmt.Errorf("holds %d images of %d², want %d of %d²", count, gotSize, PerSnapshot, size)
	}
	tl := tableLen(PerSnapshot)
	if len(head) < tl {
		return nil, fmt.Errorf("%d bytes, shorter than its table (truncated?)", fileLen)
	}
	if xxhash.Sum64(head[:tl-8]) != le.Uint64(head[tl-8:]) {
		return nil, errors.New("table checksum mismatch")
	}
	ix := &cacheIndex{key: key, size: size, frames: make([]frame, PerSnapshot)}
	off := int64(tl)
	maxLen := int64(4*size*size) + 1<<16 // zstd never expands much
	for i := range ix.frames {
		e := head[cacheHeader+cacheEntry*i:]
		n := le.Uint64(e)
		if n == 0 || n > uint64(maxLen) {
			return nil, fmt.Errorf("image %d: frame of %d bytes", i, n)
		}
		ix.frames[i] = frame{off: off, length: int64(n), sum: le.Uint64(e[8:]),
			psum: math.Float64frombits(le.Uint64(e[16:])), m2: math.Float64frombits(le.Uint64(e[24:]))}
		off += int64(n)
	}
	if off != fileLen {
		return nil, fmt.Errorf("%d bytes, its table says %d (truncated?)", fileLen, off)
	}
	return ix, nil
}

// frameDecoder decodes the frames of cache files, reusing its buffers; one
// per goroutine.
type frameDecoder struct {
	dec      *zstd.Decoder
	comp, sh []byte
}

func newFrameDecoder(size int) (*frameDecoder, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(4*size*size)+1<<20))
	if err != nil {
		return nil, err
	}
	return &frameDecoder{dec: dec}, nil
}

func (d *frameDecoder) close() { d.dec.Close() }

// decode decompresses the frame comp of an image of len(dst) pixels into
// dst, checking its length and checksum.
func (d *frameDecoder) decode(comp []byte, fr frame, dst []float32) error {
	var err error
	d.sh, err = d.dec.DecodeAll(comp, d.sh[:0])
	if err != nil {
		return fmt.Errorf("frame: %v", err)
	}
	n := len(dst)
	if len(d.sh) != 4*n {
		return fmt.Errorf("frame holds %d bytes, want %d", len(d.sh), 4*n)
	}
	if xxhash.Sum64(d.sh) != fr.sum {
		return errors.New("checksum mismatch")
	}
	// Unshuffle straight into the pixels.
	b0, b1, b2, b3 := d.sh[:n], d.sh[n:2*n], d.sh[2*n:3*n], d.sh[3*n:4*n]
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(b0[i]) | uint32(b1[i])<<8 | uint32(b2[i])<<16 | uint32(b3[i])<<24)
	}
	return nil
}

// read decodes image i of the open cache file f into dst.
func (d *frameDecoder) read(f *os.File, ix *cacheIndex, i int, dst []float32) error {
	fr := ix.frames[i]
	if int64(cap(d.comp)) < fr.length {
		d.comp = make([]byte, fr.length)
	}
	d.comp = d.comp[:fr.length]
	if _, err := f.ReadAt(d.comp, fr.off); err != nil {
		return err
	}
	if err := d.decode(d.comp, fr, dst); err != nil {
		return fmt.Errorf("image %d: %w", i, err)
	}
	return nil
}

// readCache returns the 48 images of size² pixels stored at path if its key
// is key. A missing file gives an error matching fs.ErrNotExist; any other
// problem (corrupt, stale, of another size) an error saying what.
func readCache(path string, key uint64, size int) ([]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeCache(data, key, size)
}

// decodeCache returns the images of a whole cache file held in data.
func decodeCache(data []byte, key uint64, size int) ([]float32, error) {
	ix, err := parseIndex(data, int64(len(data)), key, size)
	if err != nil {
		return nil, err
	}
	d, err := newFrameDecoder(size)
	if err != nil {
		return nil, err
	}
	defer d.close()
	px := size * size
	pix := make([]float32, PerSnapshot*px)
	for i, fr := range ix.frames {
		if err := d.decode(data[fr.off:fr.off+fr.length], fr, pix[i*px:(i+1)*px]); err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
	}
	return pix, nil
}

// encodeCache returns the bytes of a cache file holding the images pix (48
// of size² pixels) under key.
func encodeCache(key uint64, size int, pix []float32) ([]byte, error) {
	enc, err := encoder()
	if err != nil {
		return nil, err
	}
	px := size * size
	if len(pix) != PerSnapshot*px {
		return nil, fmt.Errorf("cache: %d pixels, want %d images of %d²", len(pix), PerSnapshot, size)
	}
	le := binary.LittleEndian
	out := make([]byte, tableLen(PerSnapshot), tableLen(PerSnapshot)+len(pix)*4/2)
	copy(out, cacheMagic)
	le.PutUint64(out[8:], key)
	le.PutUint32(out[16:], uint32(size))
	le.PutUint32(out[20:], PerSnapshot)
	raw := make([]byte, 4*px)
	sh := make([]byte, 4*px)
	for i := range PerSnapshot {
		img := pix[i*px : (i+1)*px]
		for j, v := range img {
			le.PutUint32(raw[4*j:], math.Float32bits(v))
		}
		shuffleInto(sh, raw)
		start := len(out)
		out = enc.EncodeAll(sh, out)
		psum, m2 := moments(img)
		e := out[cacheHeader+cacheEntry*i:]
		le.PutUint64(e, uint64(len(out)-start))
		le.PutUint64(e[8:], xxhash.Sum64(sh))
		le.PutUint64(e[16:], math.Float64bits(psum))
		le.PutUint64(e[24:], math.Float64bits(m2))
	}
	tl := tableLen(PerSnapshot)
	le.PutUint64(out[tl-8:], xxhash.Sum64(out[:tl-8]))
	return out, nil
}

// writeCache stores the images pix (48 of size² pixels) at path atomically:
// a temporary file in the same directory, synced and renamed into place.
func writeCache(path string, key uint64, size int, pix []float32) error {
	data, err := encodeCache(key, size, pix)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, data)
}

// moments returns Σ v and Σ (v − mean)² over pix, in float64 (two passes).
func moments(pix []float32) (sum, m2 float64) {
	for _, v := range pix {
		sum += float64(v)
	}
	mean := sum / float64(len(pix))
	for _, v := range pix {
		d := float64(v) - mean
		m2 += d * d
	}
	return sum, m2
}

// shuffleInto writes the bytes of the 4-byte values of raw into out
// regrouped by byte position.
func shuffleInto(out, raw []byte) {
	n := len(raw) / 4
	for i := range n {
		for b := range 4 {
			out[b*n+i] = raw[4*i+b]
		}
	}
}
