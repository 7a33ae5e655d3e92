"""Benchmark: a full (layer x head x position) patching sweep, batched against a naive loop.

Both compute the same 60 numbers on ``ioi_2l2h`` (2 layers x 2 heads x 15 positions, denoising
``hook_z`` on 48 flipped IOI prompts): ``mi_tutor.patching.patch_sweep`` with several patches per
forward pass, and ``patch_naive_loop`` with one forward pass per patch. Results go to
``bench/results/patching_sweep.json`` with the machine and its load.

    python bench/patching_sweep.py
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

from mi_tutor import patching as P
from mi_tutor import zoo
from mi_tutor.tasks import ioi_batch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "patching_sweep.json"


def timed(fn, repeats: int = 3):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    torch.set_num_threads(1)
    model = zoo.load("ioi_2l2h", device="cpu")
    batch = ioi_batch(48, seed=0, template=0, order="BAB")
    flipped = batch.corrupt("flip")
    with torch.no_grad():
        clean = P.logit_diff(model(batch.tokens), batch.io, batch.s)
        corrupt = P.logit_diff(model(flipped.tokens), batch.io, batch.s)
    metric = lambda logits: P.normalized_metric(P.logit_diff(logits, batch.io, batch.s), clean, corrupt)  # noqa: E731
    cfg, n_pos = model.cfg, batch.tokens.shape[1]
    sites = [P.Site(f"blocks.{L}.attn.hook_z", [p], [h]) for L in range(cfg.n_layers) for h in range(cfg.n_heads)
             for p in range(n_pos)]
    rows = []
    naive_s, naive = timed(lambda: P.patch_naive_loop(model, flipped.tokens, batch.tokens, metric, sites))
    rows.append({"method": "naive loop", "patches_per_pass": 1, "forward_passes": len(sites) + 1,
                 "seconds": round(naive_s, 3)})
    for k in (8, 30, 60):
        s, out = timed(lambda k=k: P.patch_sweep(model, flipped.tokens, batch.tokens, metric, sites, batch_patches=k,
                                                 progress=False))
        assert torch.allclose(out, naive, atol=1e-4), "batched and naive sweeps disagree"
        rows.append({"method": "batched", "patches_per_pass": k, "forward_passes": -(-len(sites) // k) + 1,
                     "seconds": round(s, 3), "speedup_vs_naive": round(naive_s / s, 2)})
    result = {
        "machine": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu_count": os.cpu_count(),
                    "platform": platform.platform(), "torch": torch.__version__, "threads": 1,
                    "load_average_1min": round(os.getloadavg()[0], 2)},
        "setup": {"model": "ioi_2l2h", "prompts": 48, "sites": len(sites), "hook": "hook_z per (layer, head, position)",
                  "timing": "best of 3"},
        "max_abs_difference": float((out - naive).abs().max()),
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
