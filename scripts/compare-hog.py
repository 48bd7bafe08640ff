#!/usr/bin/python3
"""HOG features per second per core: `analysis hog` (one process, a whole
directory) against a Python loop over scikit-image, on the same images in
the same run, alternating the two so that machine noise hits both.

The images are 250x250 8-bit PNGs of a simulation's column-density maps
(analysis/hog/testdata/sigma128.f32: log10 Σ of a 128³ box, tiled
periodically from different offsets), written to a scratch directory. Both
sides load the PNGs and compute scikit-image's default HOG (8 orientations,
20x20-pixel cells, 1x1 blocks, L2-Hys).

usage: scripts/compare-hog.py [--images 96] [--pairs 3]
needs /usr/bin/python3 with numpy and scikit-image (Debian: python3-skimage).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import skimage
from skimage.feature import hog
from skimage.io import imread, imsave

from cpuinfo import cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--pairs", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="compare-hog-")
    try:
        run(a, tmp)
    finally:
        shutil.rmtree(tmp)


def run(a, tmp):
    binary = os.path.join(tmp, "analysis")
    subprocess.run(["go", "build", "-o", binary, "./analysis"], cwd=ROOT, check=True)
    m = np.fromfile(os.path.join(ROOT, "analysis/hog/testdata/sigma128.f32"), dtype="<f4").reshape(3, 128, 128)
    lo, hi = float(m.min()), float(m.max())
    imgdir = os.path.join(tmp, "imgs")
    os.mkdir(imgdir)
    for i in range(a.images):
        r0, c0 = 37 * i % 128, 59 * i % 128
        t = np.tile(m[i % 3], (3, 3))[r0:r0 + 250, c0:c0 + 250]
        imsave(os.path.join(imgdir, "sigma%03d.png" % i), np.round(255 * (t - lo) / (hi - lo)).astype(np.uint8), check_contrast=False)
    files = sorted(os.path.join(imgdir, f) for f in os.listdir(imgdir))

    def go(workers):
        t0 = time.perf_counter()
        subprocess.run([binary, "hog", "--images", imgdir, "--workers", str(workers), "--out", os.path.join(tmp, "f.csv")], check=True, stderr=subprocess.DEVNULL)
        return a.images / (time.perf_counter() - t0) / workers

    def py():
        t0 = time.perf_counter()
        feats = [hog(imread(f).astype(np.float64), orientations=8, pixels_per_cell=(20, 20), cells_per_block=(1, 1), block_norm="L2-Hys") for f in files]
        assert len(feats) == a.images
        return a.images / (time.perf_counter() - t0)

    # Agreement first: the same PNGs give the same features (to 1e-6).
    go(1)
    ours = np.loadtxt(os.path.join(tmp, "f.csv"), delimiter=",", skiprows=1, usecols=range(1, 1153), max_rows=4)
    theirs = np.array([hog(imread(f).astype(np.float64), orientations=8, pixels_per_cell=(20, 20), cells_per_block=(1, 1), block_norm="L2-Hys") for f in files[:4]])
    print("max |ours − scikit-image| over 4 images: %.2g" % np.abs(ours - theirs).max())

    cores = os.cpu_count()
    print("CPU: %s; scikit-image %s; %d images of 250x250 per run; img/s per core" % (cpu(), skimage.__version__, a.images))
    rows = []
    for p in range(a.pairs):
        g1, s1, gn = go(1), py(), go(cores)
        rows.append((g1, s1, gn))
        print("pair %d: analysis hog 1 worker %.1f, %d workers %.1f per core; scikit-image loop %.1f; ratio %.1f×" % (p + 1, g1, cores, gn, s1, g1 / s1))
    r = sorted(g / s for g, s, _ in rows)
    print("ratio analysis hog / scikit-image, one core: min %.1f median %.1f max %.1f over %d pairs" % (r[0], r[len(r) // 2], r[-1], len(r)))


if __name__ == "__main__":
    sys.exit(main())
