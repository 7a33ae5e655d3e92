"""Benchmark: linear CKA at n = 10,000 examples x 512 features (float64), ours vs Kornblith's Gram form.

``mi_tutor.universality.linear_cka`` uses the feature-space form
``||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` (three 512 x 512 products);
Kornblith et al.'s demo code (``google-research/representation_similarity``,
``cka(gram_linear(x), gram_linear(y))``, copied below) builds and centres two
10,000 x 10,000 Gram matrices. Both run in the same script, each in a fresh
child process so that its extra memory is its own: the peak resident set size
(``ru_maxrss``) during the call minus the resident size just before it, and
``tracemalloc``'s peak of Python/numpy allocations. Time is the fastest of
``--repeats`` calls; the two values must agree.

    python bench/cka.py                # writes bench/results/cka.json
    python bench/cka.py --n 2000       # quicker
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "cka.json"


# ---- Kornblith et al.'s demo code (Demo.ipynb), verbatim apart from formatting
def gram_linear(x):
    return x.dot(x.T)


def center_gram(gram, unbiased=False):
    if not np.allclose(gram, gram.T):
        raise ValueError("Input must be a symmetric matrix.")
    gram = gram.copy()
    if unbiased:
        raise NotImplementedError
    means = np.mean(gram, 0, dtype=np.float64)
    means -= np.mean(means) / 2
    gram -= means[:, None]
    gram -= means[None, :]
    return gram


def cka(gram_x, gram_y, debiased=False):
    gram_x = center_gram(gram_x, unbiased=debiased)
    gram_y = center_gram(gram_y, unbiased=debiased)
    scaled_hsic = gram_x.ravel().dot(gram_y.ravel())
    normalization_x = np.linalg.norm(gram_x)
    normalization_y = np.linalg.norm(gram_y)
    return scaled_hsic / (normalization_x * normalization_y)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _child(method: str, n: int, d: int, repeats: int, threads: int, queue) -> None:
    import torch

    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from mi_tutor.universality import linear_cka

    rng = np.random.RandomState(0)
    x = rng.randn(n, d)
    y = x @ rng.randn(d, d) * 0.1 + rng.randn(n, d)
    if method == "ours":
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        linear_cka(xt[:100], yt[:100])                 # warm-up (imports, kernels) on a small slice

        def run():
            return linear_cka(xt, yt)
    else:
        cka(gram_linear(x[:100]), gram_linear(y[:100]))

        def run():
            return float(cka(gram_linear(x), gram_linear(y)))
    before = _rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    times, value = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - t)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"method": method, "value": value, "seconds_best": min(times), "seconds_all": times,
               "extra_rss_mb": max(0.0, peak - max(before, peak_before)) if peak > peak_before else 0.0,
               "rss_before_mb": before, "tracemalloc_peak_mb": traced_peak / 2 ** 20})


def measure(method: str, n: int, d: int, repeats: int, threads: int) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(method, n, d, repeats, threads, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch / BLAS threads (shared machine: 1)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    load = os.getloadavg()[0]
    ours = measure("ours", args.n, args.d, args.repeats, args.threads)
    gram = measure("kornblith_gram", args.n, args.d, max(1, min(args.repeats, 2)), args.threads)
    agree = abs(ours["value"] - gram["value"])
    result = {
        "n": args.n, "d": args.d, "dtype": "float64", "threads": args.threads,
        "ours": ours, "kornblith_gram": gram, "abs_difference": agree,
        "speedup": gram["seconds_best"] / ours["seconds_best"],
        "goal": {"seconds": 0.1, "extra_mb": 100},
        "meets_goal": ours["seconds_best"] <= 0.1 and ours["extra_rss_mb"] <= 100,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_1min_before": load,
                    "load_1min_after": os.getloadavg()[0]},
        "command": f"python bench/cka.py --n {args.n} --d {args.d} --repeats {args.repeats} --threads {args.threads}",
    }
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine",)}, indent=1))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    assert agree < 1e-8, f"the two forms disagree by {agree}"


if __name__ == "__main__":
    main()
