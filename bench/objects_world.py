"""Benchmark: how long the object world takes to render a batch of 512 scenes on one CPU thread.

Renders ``--n`` scenes (default 512) ``--repeats`` times for each task
(``object`` and ``count``) after one warm-up, and records the median wall
time and the median CPU time of the process (the CPU time is what the
renderer costs; the wall time also counts other work on a shared machine),
with the load average before and after. Results go to
``bench/results/objects_world.json``.

    python bench/objects_world.py
    python bench/objects_world.py --n 2048 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from mi_tutor.vision.objects import ObjectWorldConfig, render_objects

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "objects_world.json"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = {"n": args.n, "repeats": args.repeats, "threads": 1, "torch": torch.__version__,
           "machine": platform.machine(), "cpus": os.cpu_count(), "load_before": _load(), "tasks": {}}
    for task in ("object", "count"):
        cfg = ObjectWorldConfig(task=task)
        render_objects(args.n, seed=0, config=cfg)
        wall, cpu = [], []
        for r in range(args.repeats):
            w, c = time.perf_counter(), time.process_time()
            render_objects(args.n, seed=r + 1, config=cfg)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        out["tasks"][task] = {"wall_s_median": round(statistics.median(wall), 3),
                              "cpu_s_median": round(statistics.median(cpu), 3),
                              "wall_s": [round(x, 3) for x in wall], "cpu_s": [round(x, 3) for x in cpu]}
        print(task, out["tasks"][task])
    out["load_after"] = _load()
    out["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
