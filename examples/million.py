"""Scale check: `seqae embed` and `seqae cluster` on 1,000,000 sequences of length 128.

Writes a float32 `.npy` of N sequences (512 MB for the default 1,000,000 x 128) of eight
shape families, trains a model on its first 4,000 sequences, then runs under /usr/bin/time:

  seqae embed m big.npy --out emb.npy
  seqae cluster big.npy --model m --k 8 --out clusters.csv     (embeds, then k-means)
  seqae cluster emb.npy --k 8 --clusterer kmeans --out km.csv

and, in the same run, scikit-learn's KMeans(8, n_init=10) on emb.npy. Prints a table of wall
time and peak RSS (as a multiple of the data's size) and the same figures as JSON.

  python examples/million.py --seqae target/release/seqae [--n 1000000] [--dir /tmp/million]

Needs numpy and scikit-learn in the interpreter that runs it; the seqae side is the binary.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def shapes(labels, length, rng):
    """Sequences of eight shape families (sines, ramps, steps, bumps), with noise."""
    t = np.linspace(0.0, 1.0, length, dtype=np.float32)
    n = len(labels)
    phase = rng.uniform(0, 2 * np.pi, (n, 1)).astype(np.float32)
    amp = rng.uniform(0.7, 1.3, (n, 1)).astype(np.float32)
    at = rng.uniform(0.2, 0.8, (n, 1)).astype(np.float32)
    out = np.empty((n, length), dtype=np.float32)
    families = [
        lambda: np.sin(2 * np.pi * 2 * t + phase),
        lambda: np.sin(2 * np.pi * 6 * t + phase),
        lambda: 2 * t - 1 + 0 * phase,
        lambda: 1 - 2 * t + 0 * phase,
        lambda: np.where(t > at, 1.0, -1.0),
        lambda: np.where(t > at, -1.0, 1.0),
        lambda: np.exp(-((t - at) ** 2) / 0.005) * 2 - 0.5,
        lambda: np.abs(np.sin(2 * np.pi * 3 * t + phase)) * 2 - 1,
    ]
    for k, f in enumerate(families):
        rows = labels == k
        out[rows] = (amp * f())[rows]
    out += rng.normal(0, 0.2, out.shape).astype(np.float32)
    return out


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in bytes)."""
    r = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True, text=True
    )
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    line = [x for x in r.stderr.splitlines() if x.startswith("TIME ")][-1]
    _, secs, kib = line.split()
    return float(secs), int(kib) * 1024, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seqae", default="target/release/seqae")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--dir", default="/tmp/seqae-million")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    big, small = d / "big.npy", d / "small.npy"
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 8, a.n)
    if not big.exists():
        arr = np.lib.format.open_memmap(big, mode="w+", dtype=np.float32, shape=(a.n, a.length))
        for s in range(0, a.n, 100_000):
            arr[s : s + 100_000] = shapes(labels[s : s + 100_000], a.length, rng)
        arr.flush()
        del arr
    data = np.load(big, mmap_mode="r")
    np.save(small, np.ascontiguousarray(data[:4000]))
    size = os.path.getsize(big)
    for f in ["m", "emb.npy", "clusters.csv", "km.csv"]:
        subprocess.run(["rm", "-rf", str(d / f)])
    seqae = a.seqae
    rows = []
    t, rss, _ = timed([seqae, "train", str(small), "--out", str(d / "m"), "--epochs", str(a.epochs)])
    rows.append(("seqae train (first 4,000 sequences)", t, rss))
    t, rss, _ = timed([seqae, "embed", str(d / "m"), str(big), "--out", str(d / "emb.npy")])
    rows.append(("seqae embed", t, rss))
    t, rss, out = timed(
        [seqae, "cluster", str(big), "--model", str(d / "m"), "--k", "8", "--out", str(d / "clusters.csv")]
    )
    rows.append(("seqae cluster (embeds, then k-means)", t, rss))
    t, rss, _ = timed(
        [seqae, "cluster", str(d / "emb.npy"), "--k", "8", "--clusterer", "kmeans", "--out", str(d / "km.csv")]
    )
    rows.append(("seqae cluster emb.npy --clusterer kmeans", t, rss))
    seqae_km = t

    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score as nmi

    emb = np.load(d / "emb.npy")
    start = time.perf_counter()
    km = KMeans(8, n_init=10, random_state=0).fit(emb)
    sk = time.perf_counter() - start
    ours = np.loadtxt(d / "km.csv", delimiter=",", skiprows=1, usecols=1, dtype=np.int64)
    print(f"data: {a.n:,} x {a.length} float32, {size / 2**20:.0f} MiB ({big})")
    print(f"{'job':<44} {'wall s':>8} {'peak RSS MiB':>13} {'x data':>7}")
    for name, t, rss in rows:
        print(f"{name:<44} {t:>8.1f} {rss / 2**20:>13.0f} {rss / size:>7.2f}")
    print(f"{'scikit-learn KMeans(8, n_init=10).fit':<44} {sk:>8.1f}")
    print(f"k-means time, seqae / scikit-learn: {seqae_km / sk:.2f} (whole command vs fit alone)")
    print(f"NMI against the generating families: seqae {nmi(labels, ours):.3f}, "
          f"scikit-learn on the same embeddings {nmi(labels, km.labels_):.3f}")
    figures = {
        "n": a.n,
        "length": a.length,
        "data_bytes": size,
        "jobs": [{"job": n, "seconds": t, "peak_rss_bytes": r, "x_data": r / size} for n, t, r in rows],
        "sklearn_kmeans_seconds": sk,
        "kmeans_ratio": seqae_km / sk,
        "nmi_seqae": nmi(labels, ours),
        "nmi_sklearn": nmi(labels, km.labels_),
    }
    print(json.dumps(figures))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
