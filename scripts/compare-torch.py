#!/usr/bin/python3
"""Training speed of our CNN against PyTorch on the same cores, in the same run.

The network is the talk's (train/cnn.DefaultConfig): 4 blocks of [3x3 conv
(16, 32, 64, 64 filters, padding 1) + bias, ReLU, 2x2 max-pool], dense 128 ->
ReLU -> dropout 0.5 -> dense 64 -> ReLU -> dropout 0.5 -> dense 1, binary
cross-entropy on the logit, RMSprop (lr 1e-3, rho 0.9, eps 1e-7), batch 32.
Ours is `go test -bench BenchmarkTrainStep/<size>` of train/cnn with
GOMAXPROCS=threads; PyTorch runs the same steps with torch.set_num_threads
(threads), once with glibc's default allocator and once with it tuned
(GLIBC_TUNABLES below: without it PyTorch spends much of its time in page
faults). All three are pinned to the same CPUs with taskset and run back to
back in each pair, so the noise of a shared machine hits all of them. Rates
are images per second of wall time and per CPU second of the process (the
second does not count time spent waiting for a core).

usage: scripts/compare-torch.py [--sizes 64,128,250] [--pairs 3] [--threads 2] [--steps 20] [--tags openblas]
needs /usr/bin/python3 with PyTorch (Debian: apt install python3-torch).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from cpuinfo import cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUNED = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736:glibc.malloc.arena_max=1:glibc.malloc.hugetlb=1"

TORCH = r"""
import sys, time, torch
from torch import nn
size, threads, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
layers, c, s = [], 1, size
for f in (16, 32, 64, 64):
    layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    c, s = f, s // 2
layers += [nn.Flatten(), nn.Linear(c * s * s, 128), nn.ReLU(), nn.Dropout(0.5),
           nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 1)]
net = nn.Sequential(*layers)
opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
loss_fn = nn.BCEWithLogitsLoss()
x = torch.randn(32, 1, size, size)
y = (torch.rand(32, 1) < 0.5).float()
def step():
    opt.zero_grad()
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()
for _ in range(3):
    step()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(steps):
    step()
t, c = time.perf_counter() - t0, time.process_time() - c0
print("%.3f %.3f" % (32 * steps / t, 32 * steps / c))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="64,128,250")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--tags", default="", help="Go build tags of our side, e.g. openblas (needs libopenblas-dev)")
    a = ap.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("compare-torch: PyTorch is not installed for %s (Debian: apt install python3-torch)" % sys.executable)
    cpus = "0-%d" % (a.threads - 1)
    tmp = tempfile.mkdtemp(prefix="compare-torch-")
    try:
        test = os.path.join(tmp, "cnn.test")
        subprocess.run(["go", "test", "-c", "-tags", a.tags, "-o", test, "./train/cnn"], cwd=ROOT, check=True)
        script = os.path.join(tmp, "net.py")
        with open(script, "w") as f:
            f.write(TORCH)
        print("CPU: %s; %d threads pinned to CPUs %s; PyTorch %s; batch 32, %d steps per run; Go tags %r" % (cpu(), a.threads, cpus, torch.__version__, a.steps, a.tags))

        def ours(size):
            env = dict(os.environ, GOMAXPROCS=str(a.threads))
            out = subprocess.run(["taskset", "-c", cpus, test, "-test.run", "^$", "-test.bench", "^BenchmarkTrainStep/%d$" % size,
                                  "-test.benchtime", "%dx" % a.steps], cwd=os.path.join(ROOT, "train/cnn"), env=env,
                                 check=True, capture_output=True, text=True).stdout
            ips = float(re.search(r"([\d.]+) img/s", out).group(1))
            ms = float(re.search(r"([\d.]+) cpu-ms/img", out).group(1))
            return ips, 1000 / ms

        def torch_run(size, tuned):
            env = dict(os.environ)
            env.pop("GLIBC_TUNABLES", None)
            if tuned:
                env["GLIBC_TUNABLES"] = TUNED
            out = subprocess.run(["taskset", "-c", cpus, sys.executable, script, str(size), str(a.threads), str(a.steps)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            w, c = out.split()
            return float(w), float(c)

        for size in [int(s) for s in a.sizes.split(",")]:
            ratios = {"default": [], "tuned": []}
            cratios = {"default": [], "tuned": []}
            for p in range(a.pairs):
                o = ours(size)
                d = torch_run(size, False)
                t = torch_run(size, True)
                print("%d², pair %d: ours %.0f img/s (%.0f per CPU-s); PyTorch default %.0f (%.0f), tuned %.0f (%.0f)" %
                      (size, p + 1, o[0], o[1], d[0], d[1], t[0], t[1]))
                for k, v in (("default", d), ("tuned", t)):
                    ratios[k].append(o[0] / v[0])
                    cratios[k].append(o[1] / v[1])
            for k in ("default", "tuned"):
                print("%d²: ours / PyTorch %s allocator: wall %s; per CPU second %s" % (size, k, stats(ratios[k]), stats(cratios[k])))
    finally:
        shutil.rmtree(tmp)


def stats(v):
    v = sorted(v)
    return "min %.2f median %.2f max %.2f" % (v[0], v[len(v) // 2], v[-1])


if __name__ == "__main__":
    main()
