"""Which small transformer solves IOI on prompts it never saw, in every order of the names?

Each variant trains by the zoo's IOI recipe (:func:`mi_tutor.tasks.ioi_train.train_ioi`, mixed orders,
split ``"train"``) and is measured on 1000 prompts per order of each split: ``train`` (seen kinds of
prompts), ``test`` (held-out templates and held-out name pairs) and ``new_names`` (names never trained).

Run (one thread, niced; one variant per call appends to the results)::

    PYTHONPATH=$PWD nice -n 10 python bench/ioi_models.py NAME LAYERS HEADS D_MODEL D_MLP STEPS LR BATCH [D_HEAD [WEIGHT_DECAY]]

D_MLP 0 means attention only. Writes ``bench/results/ioi_models.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from mi_tutor.tasks import ORDERS, ioi_batch
from mi_tutor.tasks.ioi_train import IOITrainConfig, ioi_accuracy, ioi_model_config, train_ioi
from mi_tutor.transformer import HookedTransformer

OUT = Path(__file__).parent / "results" / "ioi_models.json"


def measure(model) -> dict[str, dict[str, float]]:
    """Accuracy per split and order on 1000 prompts each (seeds the training never draws)."""
    return {split: {o: round(ioi_accuracy(model, ioi_batch(1000, seed=77_000 + k, order=o, split=split)), 4)
                    for k, o in enumerate(ORDERS)} for split in ("train", "test", "new_names")}


def main(name: str, layers: int, heads: int, d_model: int, d_mlp: int, steps: int, lr: float, batch: int = 256,
         d_head: int = 0, weight_decay: float = 0.01) -> dict:
    torch.set_num_threads(1)
    d_head = d_head or d_model // heads
    cfg = IOITrainConfig(steps=steps, lr=lr, batch_size=batch, weight_decay=weight_decay, seed=0, split="train")
    model = HookedTransformer(ioi_model_config(layers, heads, d_head, d_model=d_model, d_mlp=d_mlp or None))
    t0 = time.perf_counter()
    model, log = train_ioi(model, cfg, progress=True, device="cpu")
    seconds = time.perf_counter() - t0
    torch.save(model.state_dict(), f"/tmp/ioi_models_{name}.pt")  # the zoo's weights when this run is the recipe
    row = {"name": name, "n_layers": layers, "n_heads": heads, "d_model": d_model, "d_head": d_head,
           "d_mlp": d_mlp, "steps": steps, "lr": lr, "batch_size": cfg.batch_size, "weight_decay": weight_decay,
           "train_seconds": round(seconds, 1), "final_loss": round(sum(log.losses[-50:]) / 50, 4),
           "test_curve": dict(zip(log.eval_steps, [round(a, 3) for a in log.eval_accuracy])),
           "accuracy": measure(model)}
    results = json.loads(OUT.read_text()) if OUT.exists() else {"command": __doc__.split("::")[1].split("\n\n")[1].strip(),
                                                                 "machine": "2 shared CPU cores, torch 1 thread",
                                                                 "runs": []}
    results["runs"] = [r for r in results["runs"] if r["name"] != name] + [row]
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    return row


if __name__ == "__main__":
    a = sys.argv[1:]
    print(json.dumps(main(a[0], *map(int, a[1:6]), float(a[6]), *(int(x) for x in a[7:9]), *(float(x) for x in a[9:10])), indent=1))
