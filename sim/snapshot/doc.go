// Package snapshot reads and writes turbindex snapshot files (.tsnap,
// format version 1), one per simulation.
//
// A snapshot holds a JSON header (run parameters, units, time, field table)
// and a set of float32 fields, each stored as rectangular chunks that are
// byte-shuffled, zstd-compressed and checksummed with xxhash64. The byte
// layout is specified in docs/FORMAT.md; this package is the reference
// implementation and applies every validation rule listed there.
//
// Physical quantities in the header are in cgs units unless a key's name
// says otherwise (time_myr, wall_seconds); field values carry the unit named
// in their field entry.
//
// Writing is atomic (see Write). Reading validates the preamble and header
// on Open; chunk contents are checked (decompressed size and checksum) when
// they are read, or all at once by Verify. Errors that mean the file is
// malformed or corrupt match ErrCorrupt with errors.Is, so that callers can
// tell a bad file from an I/O failure.
package snapshot
