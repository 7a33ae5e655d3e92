"""Benchmark: batched toy-model instances against a Python loop, and SAE training throughput.

Lesson 5 trains a whole sweep (say 20 sparsities) as one model with an
instances axis. This script measures what that buys: the time per training
step of ``n`` instances trained together versus the same ``n`` instances
trained one after another in a Python loop (same sizes, same data volume), on
the CPU and, when one is present, on a CUDA GPU. Runs alternate and the
fastest of ``--repeats`` counts, since the CPUs may be shared. It also measures how many
activation vectors per second the SAE of lesson 6 trains on. Results go to
``bench/results/superposition_speed.json`` with the machine they were taken on.

    python bench/superposition_speed.py                 # default sizes
    python bench/superposition_speed.py --steps 50      # quicker, noisier
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from mi_tutor.dictionary import SAEConfig, SAETrainConfig, SparseAutoencoder, train_sae
from mi_tutor.superposition import ToyModel, ToyModelConfig, ToyTrainConfig, log_spaced, train_toy_model

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "superposition_speed.json"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_toy(n_instances: int, n_features: int, d_hidden: int, steps: int, batch: int, device: torch.device,
             batched: bool) -> float:
    """Seconds per step for ``n_instances`` models, batched or looped."""
    probs = log_spaced(1.0, 0.05, n_instances)
    cfg = ToyTrainConfig(steps=steps, batch_size=batch, log_every=steps)
    if batched:
        models = [ToyModel(ToyModelConfig(n_features, d_hidden, n_instances), 1.0, probs).to(device)]
    else:
        models = [ToyModel(ToyModelConfig(n_features, d_hidden, 1), 1.0, probs[k:k + 1]).to(device)
                  for k in range(n_instances)]
    for m in models:                                         # warm-up (allocations, kernels)
        train_toy_model(m, ToyTrainConfig(steps=3, batch_size=batch), progress=False)
    _sync(device)
    start = time.perf_counter()
    for m in models:
        train_toy_model(m, cfg, progress=False)
    _sync(device)
    return (time.perf_counter() - start) / steps


def time_sae(d_in: int, d_sae: int, steps: int, batch: int, device: torch.device) -> float:
    """Activation vectors per second the SAE trains on."""
    data = torch.relu(torch.randn(16 * batch, d_in, device=device))
    sae = SparseAutoencoder(SAEConfig(d_in, d_sae, 0.1)).to(device)
    train_sae(sae, data, SAETrainConfig(steps=3, batch_size=batch), progress=False)
    _sync(device)
    start = time.perf_counter()
    train_sae(sae, data, SAETrainConfig(steps=steps, batch_size=batch, log_every=steps), progress=False)
    _sync(device)
    return steps * batch / (time.perf_counter() - start)


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="alternate runs; the fastest counts (shared CPUs)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    settings = [("5 features in 2 dims", 5, 2, 1024), ("100 features in 10 dims", 100, 10, 512)]
    rows = []
    for device in devices:
        for label, n_f, d_h, batch in settings:
            looped, batched = float("inf"), float("inf")
            for _ in range(args.repeats):        # alternate, keep the fastest: robust to other load
                looped = min(looped, time_toy(args.instances, n_f, d_h, args.steps, batch, device, batched=False))
                batched = min(batched, time_toy(args.instances, n_f, d_h, args.steps, batch, device, batched=True))
            row = {"device": device.type, "model": label, "n_instances": args.instances, "batch_size": batch,
                   "loop_ms_per_step": round(1000 * looped, 2), "batched_ms_per_step": round(1000 * batched, 2),
                   "speedup": round(looped / batched, 1)}
            rows.append(row)
            print(row, flush=True)
        sae_rate = max(time_sae(64, 256, args.steps, 256, device) for _ in range(args.repeats))
        rows.append({"device": device.type, "model": "SAE 64 -> 256 latents", "batch_size": 256,
                     "samples_per_s": round(sae_rate)})
        print(rows[-1], flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "steps": args.steps, "repeats": args.repeats, "results": rows}
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
