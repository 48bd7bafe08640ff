#!/bin/bash
# Usage: scripts/compare-demo.sh BEFORE/out/demo AFTER/out/demo  (two runs of scripts/demo.sh
# with the same DEMO_* sizes, e.g. at two commits, to show that a change alters no result).
# Compare two demo output directories: manifest byte for byte (cmp),
# snapshots with cmpsnap.py (data and header bytes identical apart from
# wall_seconds/code_version and the header padding that follows them),
# every model and table file of the CNN runs with cmp (history.csv apart
# from its seconds column, config.json apart from paths and time), and the
# report's metrics.json apart from created, code_version and paths.
B=$1 A=$2
here=$(dirname "$0")
cmp "$B/manifest.csv" "$A/manifest.csv" && echo "manifest.csv: identical"
args=()
for f in "$B"/snaps/*.tsnap; do args+=("$f" "$A/snaps/$(basename "$f")"); done
/usr/bin/python3 "$here/cmpsnap.py" "${args[@]}" | cut -c1-4 | sort | uniq -c | sed 's/^/snapshots: /'
for d in cnn-classify cnn-regress; do
	for f in "$B/$d"/*; do
		n=$(basename "$f")
		case $n in
		history.csv) diff <(cut -d, -f1-5 "$f") <(cut -d, -f1-5 "$A/$d/$n") >/dev/null && echo "$d/$n: identical but the seconds column" || echo "$d/$n: DIFFERS";;
		config.json) diff <(grep -v '"manifest"\|"snapshots"\|"cache"\|"created"' "$f") <(grep -v '"manifest"\|"snapshots"\|"cache"\|"created"' "$A/$d/$n") >/dev/null && echo "$d/$n: identical but paths and time" || echo "$d/$n: DIFFERS";;
		*) cmp -s "$f" "$A/$d/$n" && echo "$d/$n: identical" || echo "$d/$n: DIFFERS";;
		esac
	done
done
/usr/bin/python3 - "$B" "$A" <<'PY'
import json, sys
# The report names its inputs by path: the two directories read as one.
a, b = (json.loads(open(d + "/report/metrics.json").read().replace(d, "DEMO")) for d in sys.argv[1:])
for m in (a, b):
    m.pop("created"); m.pop("code_version")
print("report/metrics.json:", "equal apart from created, code_version and the demo directory" if a == b else "DIFFERS")
PY
for f in "$B"/report/*.png; do cmp -s "$f" "$A/report/$(basename "$f")" && echo "report/$(basename "$f"): identical" || echo "report/$(basename "$f"): DIFFERS"; done
