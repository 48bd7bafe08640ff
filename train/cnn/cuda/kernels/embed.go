// Package kernels holds the CUDA kernels of the GPU engine: their sources
// (kernels.cu, whose bodies are the C functions of host/kernels.h) and the PTX
// compiled from them, embedded in the binary so that a node with a driver
// but no CUDA toolkit can run them.
//
// The PTX is generated on a machine with nvcc by scripts/build-ptx.sh; its
// first line records the SHA-256 of the sources it was compiled from, and
// TestPTXMatchesSources fails when the sources change without the PTX being
// rebuilt. A build without kernels.ptx still compiles and runs on CPUs: PTX
// then says what is missing.
package kernels

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

//go:embed kernels.* host/kernels.h
var files embed.FS

// Sources are the kernel source files, in the order SourceHash reads them.
var Sources = []string{"host/kernels.h", "kernels.cu"}

// PTXFile is the embedded PTX's file name, next to the sources.
const PTXFile = "kernels.ptx"

// hashPrefix starts the PTX's first line: "// turbindex-kernels-sha256 <hex>".
const hashPrefix = "// turbindex-kernels-sha256 "

// SourceHash is the hex SHA-256 of the kernel sources: each file's name, a
// NUL, its length and contents, in the order of Sources.
func SourceHash() string {
	h := sha256.New()
	for _, name := range Sources {
		b, err := files.ReadFile(name)
		if err != nil {
			panic("kernels: source missing from the embedded files: " + name) // a build error in effect
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrNoPTX means the binary was built without compiled kernels.
var ErrNoPTX = errors.New("this build has no compiled CUDA kernels (train/cnn/cuda/kernels/kernels.ptx): run scripts/build-ptx.sh on a machine with nvcc and rebuild")

// EnvPTX names a PTX file to use instead of the embedded one: a GPU
// machine's check runs freshly compiled kernels before they are committed.
const EnvPTX = "TURBINDEX_PTX"

// PTX returns the embedded PTX (or the file EnvPTX names). It returns
// ErrNoPTX when the build has none, and an error when the PTX was compiled
// from other sources than the embedded ones.
func PTX() (ptx []byte, err error) {
	var b []byte
	if p := os.Getenv(EnvPTX); p != "" {
		b, err = os.ReadFile(p)
	} else {
		b, err = files.ReadFile(PTXFile)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoPTX
	}
	if err != nil {
		return nil, err
	}
	recorded, err := RecordedHash(b)
	if err != nil {
		return nil, err
	}
	if want := SourceHash(); recorded != want {
		return nil, fmt.Errorf("%s was compiled from sources with hash %.12s…, the embedded sources have %.12s…: rebuild it with scripts/build-ptx.sh", PTXFile, recorded, want)
	}
	return b, nil
}

// RecordedHash returns the source hash that a PTX file's first line records.
func RecordedHash(ptx []byte) (string, error) {
	line, _, _ := strings.Cut(string(ptx), "\n")
	if !strings.HasPrefix(line, hashPrefix) {
		return "", fmt.Errorf("%s: first line %q does not record the sources' hash (%q…)", PTXFile, line, hashPrefix)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, hashPrefix)), nil
}

// HashLine is the first line scripts/build-ptx.sh writes into the PTX.
func HashLine() string { return hashPrefix + SourceHash() }
