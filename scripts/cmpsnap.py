#!/usr/bin/python3
"""Compare two .tsnap files: preamble and data section byte for byte, header
JSON equal apart from wall_seconds and code_version (a run's wall time and
the build's version string), byte for byte once those two values are
masked (so also in key order and number formatting); the header length
and its space padding are not compared, as they follow the number of
digits of the wall time. Prints one line per pair."""
import json, re, struct, sys

IGNORED = ("wall_seconds", "code_version")

def split(path):
    """Preamble and header bytes (the ignored values masked), the parsed
    header, and the data section."""
    b = open(path, "rb").read()
    (h,) = struct.unpack_from("<Q", b, 16)
    raw = b[24:24 + h]
    for k in IGNORED:
        raw = re.sub(rb'"' + k.encode() + rb'":("[^"]*"|[-0-9.eE+]+)', b'"' + k.encode() + b'":X', raw)
    # H (bytes 16-23) and the padding follow the length of the wall time
    # written: they differ between two runs of the same code.
    return b[:16] + raw.rstrip(b" "), json.loads(b[24:24 + h]), b[24 + h:]

bad = 0
for a, b in zip(sys.argv[1::2], sys.argv[2::2]):
    pa, ha, da = split(a)
    pb, hb, db = split(b)
    diff = sorted(k for k in set(ha) | set(hb) if ha.get(k) != hb.get(k))
    ok = pa == pb and da == db and set(diff) <= set(IGNORED)
    bad += not ok
    print("same" if ok else "DIFF", a, "header keys differing:", diff, "data bytes:", len(da), "identical" if da == db else "DIFFER")
sys.exit(1 if bad else 0)
