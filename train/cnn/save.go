package cnn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// Checkpoint format (all integers little-endian):
//
//	magic    8 bytes  "TBCNNMDL"
//	version  uint32   1
//	hlen     uint32   length of the header
//	header   hlen bytes of JSON: {"config": Config, "steps": uint64,
//	         "meta": {string: string}, "params": [{"name", "shape"}...]}
//	hcrc     uint32   CRC-32C of the header (checked before allocating)
//	then for each parameter, in header order: its values, then RMSprop's
//	         mean square, each as float32 bits
//	crc      uint32   CRC-32C (Castagnoli) of everything before it
//
// Everything that determines the rest of a training run is there: weights,
// optimizer state, and the step count (the dropout masks derive from it).

var ckptMagic = [8]byte{'T', 'B', 'C', 'N', 'N', 'M', 'D', 'L'}

const (
	ckptVersion   = 1
	maxHeaderSize = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type ckptHeader struct {
	Config Config            `json:"config"`
	Steps  uint64            `json:"steps"`
	Meta   map[string]string `json:"meta,omitempty"`
	Params []ckptParam       `json:"params"`
}

type ckptParam struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Save writes the model — configuration, weights, optimizer state, step
// count and Meta strings — so that Load resumes training exactly where it
// stopped.
func (m *Model) Save(w io.Writer) error {
	h := ckptHeader{Config: m.cfg, Steps: m.step, Meta: m.meta}
	for _, p := range m.params {
		h.Params = append(h.Params, ckptParam{Name: p.name, Shape: []int(p.shape)})
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("cnn: save: %w", err)
	}
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	var head [16]byte
	copy(head[:8], ckptMagic[:])
	binary.LittleEndian.PutUint32(head[8:], ckptVersion)
	binary.LittleEndian.PutUint32(head[12:], uint32(len(hb)))
	bw.Write(head[:])
	bw.Write(hb)
	bw.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(hb, crcTable)))
	buf := make([]byte, 0, 1<<16)
	writeFloats := func(s []float32) {
		for len(s) > 0 {
			n := min(len(s), cap(buf)/4)
			buf = buf[:0]
			for _, v := range s[:n] {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			bw.Write(buf)
			s = s[n:]
		}
	}
	for i, p := range m.params {
		writeFloats(p.data())
		writeFloats(m.opt.v[i])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cnn: save: %w", err)
	}
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc.Sum32())
	if _, err := w.Write(tail[:]); err != nil {
		return fmt.Errorf("cnn: save: %w", err)
	}
	return nil
}

// errTruncated is what reading a checkpoint that ends early gives.
var errTruncated = errors.New("cnn: load: the checkpoint is truncated")

// Load reads a model written by Save. It fails, naming the cause, on
// anything that is not a complete, intact checkpoint of this format.
func Load(r io.Reader) (*Model, error) {
	crc := crc32.New(crcTable)
	br := bufio.NewReaderSize(r, 1<<16)
	tr := io.TeeReader(br, crc)
	readFull := func(b []byte) error {
		if _, err := io.ReadFull(tr, b); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return errTruncated
			}
			return fmt.Errorf("cnn: load: %w", err)
		}
		return nil
	}
	var head [16]byte
	if err := readFull(head[:]); err != nil {
		return nil, err
	}
	if !bytes.Equal(head[:8], ckptMagic[:]) {
		return nil, errors.New("cnn: load: not a model checkpoint (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != ckptVersion {
		return nil, fmt.Errorf("cnn: load: checkpoint version %d; this build reads version %d", v, ckptVersion)
	}
	hlen := binary.LittleEndian.Uint32(head[12:])
	if hlen == 0 || hlen > maxHeaderSize {
		return nil, fmt.Errorf("cnn: load: corrupt checkpoint (header of %d bytes)", hlen)
	}
	hb := make([]byte, hlen)
	if err := readFull(hb); err != nil {
		return nil, err
	}
	var hcrc [4]byte
	if err := readFull(hcrc[:]); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(hcrc[:]) != crc32.Checksum(hb, crcTable) {
		return nil, errors.New("cnn: load: header checksum mismatch: the checkpoint is corrupt")
	}
	var h ckptHeader
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("cnn: load: corrupt checkpoint header: %v", err)
	}
	m, err := New(h.Config)
	if err != nil {
		return nil, fmt.Errorf("cnn: load: checkpoint configuration: %w", err)
	}
	if len(h.Params) != len(m.params) {
		return nil, fmt.Errorf("cnn: load: checkpoint has %d parameter tensors, its configuration %d", len(h.Params), len(m.params))
	}
	for i, p := range m.params {
		hp := h.Params[i]
		if hp.Name != p.name || !equalInts(hp.Shape, p.shape) {
			return nil, fmt.Errorf("cnn: load: checkpoint parameter %d is %s %v; its configuration has %s %v", i, hp.Name, hp.Shape, p.name, []int(p.shape))
		}
	}
	buf := make([]byte, 1<<16)
	readFloats := func(s []float32) error {
		for len(s) > 0 {
			n := min(len(s), len(buf)/4)
			if err := readFull(buf[:4*n]); err != nil {
				return err
			}
			for i := range s[:n] {
				s[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			}
			s = s[n:]
		}
		return nil
	}
	for i, p := range m.params {
		if err := readFloats(p.data()); err != nil {
			return nil, err
		}
		if err := readFloats(m.opt.v[i]); err != nil {
			return nil, err
		}
	}
	sum := crc.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(br, tail[:]); err != nil {
		return nil, errTruncated
	}
	if binary.LittleEndian.Uint32(tail[:]) != sum {
		return nil, errors.New("cnn: load: checksum mismatch: the checkpoint is corrupt")
	}
	if n, _ := br.Read(make([]byte, 1)); n != 0 {
		return nil, errors.New("cnn: load: trailing data after the checkpoint")
	}
	m.step, m.meta = h.Steps, h.Meta
	return m, nil
}

func equalInts(a []int, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
