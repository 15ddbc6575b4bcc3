"""Times the Python package against the `seqae` binary on the same data and settings.

    python crates/seqae-py/bench/bench_python.py [--repeats 3] [--epochs 20]
        [--data datasets/GunPoint] [--n 100000] [--json out.json]

- training: `seqae train DATA --epochs E` (the whole command: read, fit, save with its loss
  chart) against `SeqAE(epochs=E).fit(X)` (and read + fit + save, the same work as the
  command);
- embedding: `seqae embed` of a generated N x 24 univariate .npy against `transform` of the
  same array (and np.load + transform), with a default-size model the CLI trained on
  Chinatown20 (length 24) for 5 epochs and Python loaded.

Each timing is the median of --repeats rounds, the CLI and Python runs interleaved. Prints a table, then one JSON object with every
time and the ratios Python / CLI (below 1: Python faster).
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import tempfile
import time

import numpy as np

import seqae

ROOT = pathlib.Path(__file__).resolve().parents[3]


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def interleaved(tasks, repeats):
    """Runs every task once per round, `repeats` rounds; {name: (median s, [each run])}."""
    runs = {name: [] for name in tasks}
    for _ in range(repeats):
        for name, f in tasks.items():
            start = time.perf_counter()
            f()
            runs[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), t) for name, t in runs.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default=str(ROOT / "target" / "release" / "seqae"))
    ap.add_argument("--data", default=str(ROOT / "datasets" / "GunPoint"))
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", help="also write the JSON object to this file")
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="seqae-bench-"))
    try:
        run = lambda *a: subprocess.run([args.cli, *map(str, a)], check=True, capture_output=True)  # noqa: E731

        # Training: the same data and settings, the same seed. The CLI and Python runs are
        # interleaved, so that a drift of the machine's speed affects both alike.
        X, _ = seqae.read(args.data)
        fitted = {}

        def read_fit_save():
            Xr, _ = seqae.read(args.data)
            seqae.SeqAE(epochs=args.epochs).fit(Xr).save(tmp / "py.model")

        train = interleaved(
            {
                "cli_train": lambda: run("train", args.data, "--out", tmp / "cli.model",
                                         "--force", "--epochs", args.epochs, "-q"),
                "py_fit": lambda: fitted.update(m=seqae.SeqAE(epochs=args.epochs).fit(X)),
                "py_read_fit_save": read_fit_save,
            },
            args.repeats,
        )
        # Same model both ways (same seed): their embeddings agree exactly.
        same_train = bool(
            np.array_equal(fitted["m"].transform(X), seqae.load(tmp / "cli.model").transform(X))
        )

        # Embedding N univariate sequences of length 24.
        rng = np.random.default_rng(0)
        data = rng.normal(size=(args.n, 24)).astype(np.float32)
        np.save(tmp / "big.npy", data)
        # A model of length-24 data (Chinatown20: one time step per recurrent step), trained by
        # the CLI and loaded in Python.
        model_dir = tmp / "uni.model"
        run("train", ROOT / "datasets" / "Chinatown20", "--out", model_dir, "--epochs", 5, "-q")
        model = seqae.load(model_dir)
        out = {}
        embed = interleaved(
            {
                "cli_embed": lambda: run("embed", model_dir, tmp / "big.npy", "--out",
                                         tmp / "z.npy", "--force"),
                "py_transform": lambda: out.update(z=model.transform(data)),
                "py_load_transform": lambda: model.transform(np.load(tmp / "big.npy")),
            },
            args.repeats,
        )
        times = {**train, **embed}
        cli_train, py_fit, py_full = (times[k][0] for k in ("cli_train", "py_fit", "py_read_fit_save"))
        cli_embed, py_embed, py_embed_load = (
            times[k][0] for k in ("cli_embed", "py_transform", "py_load_transform")
        )
        same_embed = bool(np.array_equal(out["z"], np.load(tmp / "z.npy")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    result = {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "seqae": seqae.__version__,
        "data": os.path.relpath(args.data, ROOT),
        "epochs": args.epochs,
        "n_embed": args.n,
        "repeats": args.repeats,
        "cli_train_s": cli_train,
        "py_fit_s": py_fit,
        "py_read_fit_save_s": py_full,
        "cli_embed_s": cli_embed,
        "py_transform_s": py_embed,
        "py_load_transform_s": py_embed_load,
        "ratio_fit_vs_train": py_fit / cli_train,
        "ratio_read_fit_save_vs_train": py_full / cli_train,
        "ratio_transform_vs_embed": py_embed / cli_embed,
        "ratio_load_transform_vs_embed": py_embed_load / cli_embed,
        "same_model_as_cli": same_train,
        "same_embeddings_as_cli": same_embed,
        "all_runs_s": {name: t for name, (_, t) in times.items()},
    }
    rows = [
        (f"train, {result['data']}, {args.epochs} epochs", "seqae train", cli_train, None),
        ("", "SeqAE.fit", py_fit, py_fit / cli_train),
        ("", "read + fit + save", py_full, py_full / cli_train),
        (f"embed {args.n} x 1 x 24", "seqae embed (.npy)", cli_embed, None),
        ("", "SeqAE.transform", py_embed, py_embed / cli_embed),
        ("", "np.load + transform", py_embed_load, py_embed_load / cli_embed),
    ]
    print(f"{'task':<34} {'what':<20} {'median s':>9} {'Python / CLI':>13}")
    for task, what, t, ratio in rows:
        r = "" if ratio is None else f"{ratio:.3f}"
        print(f"{task:<34} {what:<20} {t:>9.3f} {r:>13}")
    print(f"same model as the CLI: {same_train}; same embeddings: {same_embed}")
    text = json.dumps(result)
    print(text)
    if args.json:
        pathlib.Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
