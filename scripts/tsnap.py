#!/usr/bin/env python3
"""Read turbindex snapshots (.tsnap, format version 1) with NumPy.

    import tsnap
    header, fields = tsnap.read("run.tsnap")      # dict, {name: float32 array}

    python3 scripts/tsnap.py run.tsnap [--verify] [--npy DIR]

The format is specified in docs/FORMAT.md; this reader applies its validation
rules 1-17 and raises TsnapError naming the rule, field and chunk. It needs
numpy and zstandard (Debian: python3-numpy python3-zstandard). Chunk checksums
(xxhash64, rule 17) are verified when the xxhash module is importable
(python3-xxhash); without it they are skipped, and `read` says so in
header["_checksums"] ("verified" or "skipped: ...").
"""

import json
import struct
import sys

import numpy as np
import zstandard

try:
    import xxhash
except ImportError:  # checksums are optional
    xxhash = None

MAGIC = b"\x89TSNAP\r\n"
VERSION = 1
MAX_HEADER = 64 << 20
MAX_ELEMENTS = 1 << 34
MAX_EXPANSION = 32768
MAX_WINDOW = 128 << 20

HEADER_KEYS = {
    "format": str, "version": int, "code_version": str, "problem": str,
    "params": dict, "units": dict, "grid": list, "box_cm": list,
    "time_s": (int, float), "time_myr": (int, float), "steps": int,
    "wall_seconds": (int, float), "ranks": int, "decomposition": list,
    "fields": list,
}
FIELD_KEYS = {"name": str, "unit": str, "dtype": str, "shape": list, "axes": list, "chunks": list}
CHUNK_KEYS = {"start": list, "shape": list, "offset": int, "stored_bytes": int,
              "raw_bytes": int, "xxhash64": str}


class TsnapError(ValueError):
    """The file is not a valid .tsnap v1 snapshot."""


# JSON's whitespace (RFC 8259): what may surround the header object. Python's
# str.strip would also take form feeds, no-break spaces and other Unicode
# spaces, which the format (and the Go reader) rejects.
JSON_WS = " \t\n\r"


class _HeaderJSONError(ValueError):
    pass


def _no_constant(name):
    raise _HeaderJSONError(f"{name} is not JSON (numbers must be finite)")


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise _HeaderJSONError(f"duplicate key {k!r} in an object")
        obj[k] = v
    return obj


# json.loads accepts NaN and Infinity and keeps the last of duplicate keys;
# the format forbids both, so this decoder refuses them.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_no_duplicates)


def _check_keys(obj, keys, where):
    if not isinstance(obj, dict):
        raise TsnapError(f"{where}: rule 4: not a JSON object")
    for k in obj:
        for want in keys:
            if k != want and k.casefold() == want.casefold():
                raise TsnapError(f"{where}: rule 4: key {k!r} differs from {want!r} only in case")
    for k, t in keys.items():
        v = obj.get(k)
        if v is None:
            raise TsnapError(f"{where}: rule 4: key {k!r} missing or null")
        if not isinstance(v, t) or (t is int and isinstance(v, bool)):
            raise TsnapError(f"{where}: rule 4: key {k!r} has the wrong type")


def _ints(v, where, what):
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise TsnapError(f"{where}: rule 4: {what} must be integers")
    return v


def _validate(path, header, data_size):
    """Rules 4-15 on a parsed header; data_size is the file size minus D."""
    _check_keys(header, HEADER_KEYS, path)
    for k in ("grid", "box_cm", "decomposition"):
        if len(header[k]) != 3:
            raise TsnapError(f"{path}: rule 4: {k!r} must have 3 entries")
    _ints(header["grid"], path, "grid")
    _ints(header["decomposition"], path, "decomposition")
    if header["format"] != "tsnap" or header["version"] != VERSION:
        raise TsnapError(f"{path}: rule 5: format {header['format']!r} version {header['version']!r}, want 'tsnap' 1")
    names = set()
    ranges = []
    for fi in header["fields"]:
        _check_keys(fi, FIELD_KEYS, f"{path}: field entry")
        name = fi["name"]
        where = f"{path}: field {name!r}"
        if not name or name in names:
            raise TsnapError(f"{where}: rule 6: empty or duplicate field name")
        names.add(name)
        if fi["dtype"] != "float32":
            raise TsnapError(f"{where}: rule 7: dtype {fi['dtype']!r}, want 'float32'")
        shape = _ints(fi["shape"], where, "shape")
        if not shape or any(s < 1 for s in shape) or _prod(shape) > MAX_ELEMENTS or len(fi["axes"]) != len(shape):
            raise TsnapError(f"{where}: rule 8: bad shape {shape} or axes {fi['axes']}")
        total = 0
        boxes = []
        for j, c in enumerate(fi["chunks"]):
            cw = f"{where} chunk {j}"
            _check_keys(c, CHUNK_KEYS, cw)
            start, cshape = _ints(c["start"], cw, "start"), _ints(c["shape"], cw, "shape")
            if len(start) != len(shape) or len(cshape) != len(shape) or any(
                    k < 1 or s < 0 or s + k > f for s, k, f in zip(start, cshape, shape)):
                raise TsnapError(f"{cw}: rule 9: chunk start {start} shape {cshape} outside the field {shape}")
            n = _prod(cshape)
            if c["raw_bytes"] != 4 * n:
                raise TsnapError(f"{cw}: rule 10: raw_bytes {c['raw_bytes']}, want {4 * n}")
            off, stored = c["offset"], c["stored_bytes"]
            if off < 0 or stored < 0 or off > data_size or stored > data_size - off:
                raise TsnapError(f"{cw}: rule 12: stored bytes [{off}, {off}+{stored}) run past the end of the file")
            if c["raw_bytes"] > MAX_EXPANSION * stored:
                raise TsnapError(f"{cw}: rule 13: raw_bytes {c['raw_bytes']} > {MAX_EXPANSION} x stored_bytes {stored}")
            h = c["xxhash64"]
            if len(h) != 16 or any(ch not in "0123456789abcdef" for ch in h):
                raise TsnapError(f"{cw}: rule 14: xxhash64 {h!r} is not 16 lowercase hex digits")
            total += n
            boxes.append((j, start, cshape))
            if stored:
                ranges.append((off, off + stored, name, j))
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                (ja, sa, ka), (jb, sb, kb) = boxes[a], boxes[b]
                if all(x < y + l and y < x + k for x, k, y, l in zip(sa, ka, sb, kb)):
                    raise TsnapError(f"{where}: rule 11: chunks {ja} and {jb} overlap")
        if total != _prod(shape):
            raise TsnapError(f"{where}: rule 11: chunks hold {total} elements, the field {_prod(shape)}")
    ranges.sort()
    for (a0, a1, fa, ja), (b0, b1, fb, jb) in zip(ranges, ranges[1:]):
        if b0 < a1:
            raise TsnapError(f"{path}: rule 15: stored bytes of field {fa!r} chunk {ja} and field {fb!r} chunk {jb} overlap")


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def read(path, fields=None):
    """Return (header, {name: float32 ndarray in C order}) of a .tsnap file.

    fields, if given, names the fields to decode (default: all). Raises
    TsnapError for a malformed or corrupt file.
    """
    with open(path, "rb") as f:
        data = f.read()
    # Rules 1-3: preamble.
    if len(data) < 24:
        raise TsnapError(f"{path}: rule 1: {len(data)} bytes, shorter than the 24-byte preamble")
    if data[:8] != MAGIC:
        if data[1:6] == b"TSNAP":
            raise TsnapError(f"{path}: rule 1: magic bytes {data[:8]!r} are mangled (text-mode transfer?)")
        raise TsnapError(f"{path}: rule 1: not a tsnap file (magic {data[:8]!r})")
    version, reserved, hlen = struct.unpack_from("<IIQ", data, 8)
    if version != VERSION:
        raise TsnapError(f"{path}: rule 2: unsupported format version {version} (this reader reads {VERSION})")
    if reserved != 0:
        raise TsnapError(f"{path}: rule 2: reserved preamble word is {reserved:#x}, want 0")
    if hlen > MAX_HEADER or 24 + hlen > len(data):
        raise TsnapError(f"{path}: rule 3: header length {hlen} exceeds the limit or the file ({len(data)} bytes)")
    # Rule 4: one JSON object, only JSON whitespace around it.
    try:
        text = data[24:24 + hlen].decode("utf-8").lstrip(JSON_WS)
        header, end = _DECODER.raw_decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError, _HeaderJSONError) as e:
        raise TsnapError(f"{path}: rule 4: header is not valid UTF-8 JSON: {e}") from None
    if text[end:].strip(JSON_WS):
        raise TsnapError(f"{path}: rule 4: bytes after the header's JSON object")
    d = 24 + hlen
    _validate(path, header, len(data) - d)

    dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
    out = {}
    for fi in header["fields"]:
        name = fi["name"]
        if fields is not None and name not in fields:
            continue
        arr = np.empty(fi["shape"], dtype="<f4")
        for j, c in enumerate(fi["chunks"]):
            where = f"{path}: field {name!r} chunk {j}"
            n, raw_bytes = _prod(c["shape"]), c["raw_bytes"]
            lo = d + c["offset"]
            stored = data[lo:lo + c["stored_bytes"]]
            try:
                # One-shot decompression does not apply the window limit:
                # check the frame header (a single-segment frame's window is
                # its content size, as libzstd reports it).
                window = zstandard.get_frame_parameters(stored).window_size
                if window > MAX_WINDOW:
                    raise TsnapError(f"{where}: rule 16: zstd frame needs a window of {window} bytes, more than {MAX_WINDOW}")
                shuffled = dctx.decompress(stored, max_output_size=raw_bytes)
            except zstandard.ZstdError as e:
                raise TsnapError(f"{where}: rule 16: zstd: {e}") from None
            if len(shuffled) != raw_bytes:
                raise TsnapError(f"{where}: rule 16: decompressed to {len(shuffled)} bytes, want {raw_bytes}")
            raw = np.frombuffer(shuffled, np.uint8).reshape(4, n).T.tobytes()
            if xxhash is not None:
                got = xxhash.xxh64(raw).hexdigest()
                if got != c["xxhash64"]:
                    raise TsnapError(f"{where}: rule 17: checksum mismatch (stored {c['xxhash64']}, computed {got})")
            box = tuple(slice(s, s + k) for s, k in zip(c["start"], c["shape"]))
            arr[box] = np.frombuffer(raw, "<f4").reshape(c["shape"])
        out[name] = arr
    header["_checksums"] = "verified" if xxhash is not None else "skipped: the xxhash module is not installed"
    return header, out


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description="Summarise (and check) a turbindex .tsnap snapshot.")
    p.add_argument("file")
    p.add_argument("--verify", action="store_true",
                   help="fail unless every chunk's checksum can be checked (needs the xxhash module)")
    p.add_argument("--npy", metavar="DIR", help="also save every field as DIR/<field>.npy")
    a = p.parse_args(argv)
    try:
        if a.verify and xxhash is None:
            raise TsnapError("--verify needs the xxhash module (Debian: python3-xxhash; pip: xxhash)")
        header, fields = read(a.file)
    except (OSError, TsnapError) as e:
        print(f"tsnap.py: {e}", file=sys.stderr)
        return 1
    g = header["grid"]
    print(f"{a.file}: {header['problem']} {g[0]}x{g[1]}x{g[2]}, t = {header['time_myr']:.4g} Myr, "
          f"{header['steps']} steps, {header['ranks']} ranks, code {header['code_version']}")
    print(f"params: {json.dumps(header['params'], sort_keys=True)}")
    for fi in header["fields"]:
        stored = sum(c["stored_bytes"] for c in fi["chunks"])
        raw = sum(c["raw_bytes"] for c in fi["chunks"])
        line = (f"  {fi['name']:<12} {fi['unit']:<10} {'x'.join(map(str, fi['shape'])):<12} "
                f"{len(fi['chunks'])} chunk(s), {raw} raw / {stored} stored bytes")
        if fi["name"] in fields:
            v = fields[fi["name"]]
            line += f", min {v.min():.6g} max {v.max():.6g} mean {v.mean(dtype=np.float64):.6g}"
        print(line)
    if a.npy:
        import os
        os.makedirs(a.npy, exist_ok=True)
        for name, v in fields.items():
            np.save(os.path.join(a.npy, name + ".npy"), v)
    if a.verify:
        print(f"{a.file}: every chunk verified")
    else:
        print(f"{a.file}: checksums {header['_checksums']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
