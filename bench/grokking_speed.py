"""Benchmark: steps per second of lesson 10's live grokking run at 1 and 2 torch threads.

The live model (``mi_tutor.grokking.LIVE_MLP``: p = 53, half the pairs, full batch) is tiny, so on a
shared 2-core CPU one thread can beat two by a wide margin. Runs alternate between thread counts
and the fastest of ``--repeats`` counts. Also measures the 1-layer transformer of the zoo run
(``grokking_p53``) and the full-size model of Nanda et al. (p = 113, 30 % train) for a few steps.
Results go to ``bench/results/grokking_speed.json`` with the machine and its load average.

    python bench/grokking_speed.py                 # default: 150 steps, 3 repeats
    python bench/grokking_speed.py --steps 50      # quicker, noisier
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch

import mi_tutor.grokking as grok
from mi_tutor.zoo.entries.grokking import GROK_P53, NANDA_113

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "grokking_speed.json"


def _time(build, data, cfg, threads: int) -> float:
    torch.set_num_threads(threads)
    grok.train_grokking(build(), data, replace(cfg, steps=3), progress=False)  # warm-up
    start = time.perf_counter()
    grok.train_grokking(build(), data, cfg, progress=False)
    return cfg.steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    live_data = grok.modular_addition(grok.LIVE_MLP.p, grok.LIVE_TRAIN_FRAC, 0)
    cases = [
        ("live EmbedMLP p=53 (lesson 10)", lambda: grok.EmbedMLP(cfg=grok.LIVE_MLP), live_data,
         replace(grok.LIVE_TRAIN, steps=args.steps, checkpoint_every=0), args.steps),
        ("transformer d64 p=53 (grokking_p53)", GROK_P53.build, GROK_P53.data(),
         replace(GROK_P53.train, steps=args.steps, checkpoint_every=0), args.steps),
        ("transformer d128 p=113 (Nanda et al.)", NANDA_113.build, NANDA_113.data(),
         replace(NANDA_113.train, steps=max(10, args.steps // 10), checkpoint_every=0), max(10, args.steps // 10)),
    ]
    results = []
    for name, build, data, cfg, steps in cases:
        best = {1: 0.0, 2: 0.0}
        for _ in range(args.repeats):
            for threads in (1, 2):
                best[threads] = max(best[threads], _time(build, data, cfg, threads))
        row = {"model": name, "steps": steps, "steps_per_s_1_thread": round(best[1], 2),
               "steps_per_s_2_threads": round(best[2], 2), "speedup_1_over_2": round(best[1] / best[2], 2)}
        if "live" in name:
            row["live_run_seconds_1_thread"] = round(grok.LIVE_TRAIN.steps / best[1], 1)
        print(row)
        results.append(row)
    out = {"machine": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                       "cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
           "repeats": args.repeats, "results": results}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
