"""tslearn's KShape on a .ts dataset folder, for examples/kshape_bench.rs: train and test merged,
each series z-normalised (tslearn's own scaler), k = the number of labels; seeds 0..runs,
n_init restarts, at most 100 iterations (tslearn's default). Prints JSON: seconds and NMI per run.
Usage: python kshape_peer.py DATA_DIR RUNS N_INIT (needs tslearn and aeon or a .ts loader)."""
import glob, json, sys, time
import numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi
from tslearn.clustering import KShape
from tslearn.preprocessing import TimeSeriesScalerMeanVariance
from tslearn.utils import to_time_series_dataset


def read_ts(path):
    xs, ys, data = [], [], False
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not data:
            data = line.lower().startswith("@data")
            continue
        *chans, label = line.split(":")
        xs.append(np.array([[float(v) if v != "?" else np.nan for v in c.split(",")] for c in chans]).T)
        ys.append(label)
    return xs, ys


d, runs, n_init = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
xs, ys = [], []
for part in ("TRAIN", "TEST"):
    for f in sorted(glob.glob(f"{d}/*_{part}.ts")):
        a, b = read_ts(f)
        xs += a
        ys += b
X = TimeSeriesScalerMeanVariance().fit_transform(to_time_series_dataset(xs))
X = np.nan_to_num(X)
k = len(set(ys))
out = {"seconds": [], "nmi": []}
for seed in range(runs):
    t = time.perf_counter()
    labels = KShape(n_clusters=k, n_init=n_init, max_iter=100, random_state=seed).fit_predict(X)
    out["seconds"].append(time.perf_counter() - t)
    out["nmi"].append(nmi(ys, labels))
print(json.dumps(out))
