package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Shared zstd codecs. Both are safe for concurrent EncodeAll/DecodeAll and
// are never reconfigured after creation, so sharing them is not shared
// mutable state; creating them per chunk would cost more than encoding a
// small chunk.
var (
	encoderOnce sync.Once
	encoder     *zstd.Encoder
	encoderErr  error

	decoderOnce sync.Once
	decoder     *zstd.Decoder
	decoderErr  error
)

// sharedEncoder returns the package encoder. SpeedDefault (zstd level 3)
// is the sweet spot for shuffled smooth float32 data: on the 128³ density
// benchmark it reaches a ratio of 1.85, against 1.83 for the fastest level
// and 1.88 for the best, which is 2.4× slower; the low mantissa bytes are
// noise that no level compresses. The zstd
// frame checksum is off: the raw xxhash64 in the header already covers
// every byte, and a second checksum would only cost time and 4 bytes.
func sharedEncoder() (*zstd.Encoder, error) {
	encoderOnce.Do(func() {
		encoder, encoderErr = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderCRC(false),
			zstd.WithEncoderConcurrency(0))
	})
	return encoder, encoderErr
}

// The zstd encoder's geometry at SpeedDefault, bytes: the block it
// compresses at a time and its match window (the library's default).
const (
	zstdBlock  = 128 << 10
	zstdWindow = 8 << 20
)

// EncoderBytes is the resident memory, in bytes, that one of the shared
// zstd encoders keeps once it has compressed a chunk of raw bytes: its
// match tables and block buffers (1.25 MiB), and, for a chunk of more
// than one zstd block, the history it filled, which is at most twice the
// window. The encoders are created as concurrent chunks need them, up to
// GOMAXPROCS, and live as long as the process, so a memory estimate
// counts one per chunk compressed at once.
func EncoderBytes(raw int64) int64 {
	const tables = 5 << 18
	if raw <= zstdBlock {
		return tables
	}
	return tables + min(raw, 2*zstdWindow)
}

// sharedDecoder returns the package decoder. DecodeAll is limited to the
// capacity of its destination, which is sized from the validated
// raw_bytes, so a hostile frame cannot make it allocate more.
func sharedDecoder() (*zstd.Decoder, error) {
	decoderOnce.Do(func() {
		decoder, decoderErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxWindow(MaxWindowBytes),
			zstd.WithDecodeAllCapLimit(true))
	})
	return decoder, decoderErr
}

// shuffle writes the little-endian bytes of src into dst grouped by byte
// plane: dst[p*n+i] is byte p of value i. Grouping the slowly varying
// exponent bytes together is what lets zstd compress float data.
func shuffle(dst []byte, src []float32) {
	n := len(src)
	p0, p1, p2, p3 := dst[:n], dst[n:2*n], dst[2*n:3*n], dst[3*n:4*n]
	for i, v := range src {
		b := math.Float32bits(v)
		p0[i] = byte(b)
		p1[i] = byte(b >> 8)
		p2[i] = byte(b >> 16)
		p3[i] = byte(b >> 24)
	}
}

// unshuffle inverts shuffle: src holds 4·len(dst) bytes in byte planes.
func unshuffle(dst []float32, src []byte) {
	n := len(dst)
	p0, p1, p2, p3 := src[:n], src[n:2*n], src[2*n:3*n], src[3*n:4*n]
	for i := range dst {
		b := uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24
		dst[i] = math.Float32frombits(b)
	}
}

// rawHash returns the xxhash64 (seed 0) of the little-endian bytes of v,
// converting through a small buffer rather than materialising all of them.
func rawHash(v []float32) uint64 {
	var buf [4096]byte
	d := xxhash.New()
	for len(v) > 0 {
		k := min(len(v), len(buf)/valueSize)
		for i, x := range v[:k] {
			binary.LittleEndian.PutUint32(buf[valueSize*i:], math.Float32bits(x))
		}
		d.Write(buf[:valueSize*k])
		v = v[k:]
	}
	return d.Sum64()
}

// EncodeChunk shuffles and compresses the raw values of one block (in C
// order) as a single zstd frame. It returns the stored bytes and the
// xxhash64 of the raw little-endian bytes (4 per value). It is safe for
// concurrent use; the future rank-parallel writer calls it on each rank.
func EncodeChunk(data []float32) (stored []byte, sum uint64, err error) {
	if len(data) == 0 {
		return nil, 0, errors.New("encode chunk: no values")
	}
	enc, err := sharedEncoder()
	if err != nil {
		return nil, 0, fmt.Errorf("encode chunk: %w", err)
	}
	shuffled := make([]byte, valueSize*len(data))
	shuffle(shuffled, data)
	// Encode into a worst-case buffer (no regrowth), then keep only an
	// exact-size copy: callers may hold many chunks in memory at once.
	scratch := enc.EncodeAll(shuffled, make([]byte, 0, enc.MaxEncodedSize(len(shuffled))))
	return bytes.Clone(scratch), rawHash(data), nil
}

// decodeChunk decompresses and unshuffles the stored bytes of chunk c and
// verifies its size and checksum. The header has been validated, so
// c.RawBytes is a multiple of 4 and at most maxExpansion × len(stored).
func decodeChunk(stored []byte, c *ChunkInfo) ([]float32, error) {
	if err := checkFrameHeader(stored, c.RawBytes); err != nil {
		return nil, err
	}
	dec, err := sharedDecoder()
	if err != nil {
		return nil, err
	}
	shuffled, err := dec.DecodeAll(stored, make([]byte, 0, c.RawBytes))
	switch {
	case errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return nil, corruptf("decompresses to more than raw_bytes %d", c.RawBytes)
	case err != nil:
		return nil, corruptf("decompress: %v", err)
	case uint64(len(shuffled)) != c.RawBytes:
		return nil, corruptf("decompressed size %d != raw_bytes %d", len(shuffled), c.RawBytes)
	}
	vals := make([]float32, c.RawBytes/valueSize)
	unshuffle(vals, shuffled)
	want, _ := parseSum(c.XXHash64) // validated with the header
	if got := rawHash(vals); got != want {
		return nil, corruptf("checksum mismatch (stored %s, computed %s)", c.XXHash64, formatSum(got))
	}
	return vals, nil
}

// checkFrameHeader rejects stored bytes that do not start with a plain zstd
// frame of the expected content size and a window of at most
// MaxWindowBytes, before any buffer is allocated.
func checkFrameHeader(stored []byte, rawBytes uint64) error {
	var fh zstd.Header
	if err := fh.Decode(stored); err != nil {
		return corruptf("not a zstd frame: %v", err)
	}
	switch {
	case fh.Skippable:
		return corruptf("stored bytes start with a skippable zstd frame, want a data frame")
	case fh.DictionaryID != 0:
		return corruptf("zstd frame needs dictionary %d; dictionaries are not allowed", fh.DictionaryID)
	case fh.HasFCS && fh.FrameContentSize != rawBytes:
		return corruptf("zstd frame content size %d != raw_bytes %d", fh.FrameContentSize, rawBytes)
	}
	// A single-segment frame needs a window of its whole content.
	window := fh.WindowSize
	if fh.SingleSegment {
		window = fh.FrameContentSize
	}
	if window > MaxWindowBytes {
		return corruptf("zstd frame needs a window of %d bytes, more than the %d allowed", window, MaxWindowBytes)
	}
	return nil
}
