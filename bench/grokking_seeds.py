"""Lesson 10's numbers on every seed: the shipped run (seed 0) and seed 1, and the live MLP on seeds 0-2.

Lesson 10 states its numbers on ``grokking_p53`` (seed 0) and the live run of seed 0. This script
measures the same quantities, with the library's functions, on ``grokking_p53_s1`` /
``grokking_p53_wd0_s1`` (seed 1 of the same recipes, never used by the lesson) and on the live MLP of
seeds 1 and 2, so the lesson can say how each number varies over seeds. ``tests/test_grokking.py``
checks the claims on seeds 0 and 1. Results go to ``bench/results/grokking_seeds.json``.

    python bench/grokking_seeds.py             # ~1 min of training (3 live runs) on one thread
    python bench/grokking_seeds.py --no-live   # only the shipped runs (seconds)
    python bench/grokking_seeds.py --no-live --nanda  # also grokking_p113_nanda (Nanda et al.'s recipe)
    python bench/grokking_seeds.py --long      # also the recipe of grokking_p53 on seeds 1 and 2 for
                                               # 6000 and 4000 steps (~15 min): when does each grok?
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import torch

import mi_tutor.grokking as grok
from mi_tutor import zoo
from mi_tutor.grokking.analysis import excluded_logits, restricted_logits

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "grokking_seeds.json"
RUNS = {0: ("grokking_p53", "grokking_p53_wd0"), 1: ("grokking_p53_s1", "grokking_p53_wd0_s1")}


def _r(x: float, n: int = 4) -> float:
    return round(float(x), n)


def plateau(curves: dict, p: int) -> dict:
    """Test accuracy over circuit formation (train accuracy >= 0.99 until test accuracy >= 0.5), x chance."""
    ph = grok.grokking_phases(curves["steps"], curves["train_acc"], curves["test_acc"])
    start, end = ph["circuit formation"]
    acc = [a for s, a in zip(curves["steps"], curves["test_acc"]) if start <= s < end]
    return {"phases": ph, "test_acc_at_memorised": _r(acc[0]), "x_chance_at_memorised": _r(acc[0] * p, 1),
            "x_chance_min": _r(min(acc) * p, 1), "x_chance_max": _r(max(acc) * p, 1),
            "test_acc_halfway": _r(acc[len(acc) // 2])}


def frequency_table(model, data, p: int) -> dict:
    """Per key frequency of the embedding: its share of W_E's squared Fourier norm, its neuron cluster, its
    fitted coefficient in the logits and the test accuracy with it alone excluded."""
    W_E = grok.embedding(model).detach()
    norms = grok.frequency_norms(grok.fourier_transform(W_E, 0))
    keys = grok.key_frequencies_from_embedding(W_E)
    logits = grok.all_logits(model, p)
    alpha, explained = grok.fit_cos_sum(logits, keys)
    best, which = grok.neuron_frequency_fractions(grok.neuron_activations(model, p)).max(1)
    share = norms.pow(2) / norms.pow(2).sum()
    rows = {k: {"share": _r(share[k - 1], 3), "neurons": int(((which == k - 1) & (best > 0.85)).sum()),
                "alpha": _r(a, 2), "test_acc_without": _r(grok.grid_accuracy(excluded_logits(logits, [k]), data), 3)}
            for k, a in zip(keys, alpha.tolist())}
    return {"keys": keys, "key_share": _r(share[[k - 1 for k in keys]].sum(), 3), "explained": _r(explained, 3),
            "gini_final": _r(grok.gini(norms), 2), "per_frequency": rows,
            "unused": [k for k, r in rows.items() if abs(r["alpha"]) < 0.5 and r["neurons"] == 0],
            "test_acc": _r(grok.grid_accuracy(logits, data), 3),
            "test_acc_keys_excluded": _r(grok.grid_accuracy(excluded_logits(logits, keys), data), 3)}


def shipped(seed: int) -> dict:
    return measure_run(*RUNS[seed])


def measure_run(name: str, control_name: str | None = None) -> dict:
    """Lesson 10's measures of the zoo's run ``name`` (and its weight-decay-0 control, where there is one):
    phases, plateau, key frequencies, and the progress measures over its shipped checkpoints."""
    run = zoo.snapshots(name, device="cpu")
    control = zoo.snapshots(control_name, device="cpu").curves if control_name else None
    data, p, curves = grok.run_data(run.recipe), run.recipe["p"], run.curves
    out = {"run": name, "control": control_name, "recipe": run.recipe, **plateau(curves, p)}
    out["step_test_acc_0.95"] = next((s for s, a in zip(curves["steps"], curves["test_acc"]) if a >= 0.95), None)
    out["step_test_loss_below_0.1"] = next((s for s, x in zip(curves["steps"], curves["test_loss"]) if x < 0.1), None)
    if control:
        out["control_max_test_acc"] = _r(max(control["test_acc"]), 3)
    out.update(frequency_table(run.models[-1], data, p))
    W0 = run.models[0].W_E.detach()[:p]
    out["gini_init"] = _r(grok.gini(grok.frequency_norms(grok.fourier_transform(W0, 0))), 2)
    keys = out["keys"]
    measures = []
    for step, m in zip(run.steps, run.models):
        logits = grok.all_logits(m, p)
        measures.append({"step": step, "test_loss": _r(grok.grid_loss(logits, data, "test")),
                         "restricted_loss": _r(grok.grid_loss(restricted_logits(logits, keys), data, "test")),
                         "excluded_train_loss": _r(grok.grid_loss(excluded_logits(logits, keys), data, "train"), 3),
                         "test_acc": _r(grok.grid_accuracy(logits, data, "test"), 3)})
    out["progress"] = measures
    lead = [m for m in measures if m["restricted_loss"] < 0.1 and m["test_acc"] < 0.5]
    out["restricted_leads_at"] = lead[0] if lead else None
    start, end = out["phases"]["circuit formation"]
    near = lambda t: min(measures, key=lambda m: abs(m["step"] - t))  # noqa: E731
    out["excluded_rise"] = _r(near(end)["excluded_train_loss"] / near(start)["excluded_train_loss"], 2)
    wn = curves["weight_norm"]
    out["weight_norm"] = {"peak": round(max(wn)), "final": round(wn[-1]), "final_over_peak": _r(wn[-1] / max(wn), 2)}
    if control:
        out["weight_norm"]["control_final"] = round(control["weight_norm"][-1])
    gini = [_r(grok.gini(grok.frequency_norms(grok.fourier_transform(m.W_E.detach()[:p], 0))), 3) for m in run.models]
    out["gini_by_checkpoint"] = dict(zip(run.steps, gini))
    return out


def live(seed: int) -> dict:
    model, log, data = grok.train_live(seed=seed, progress=False)
    s_train, s_test = log.first_step("train_acc", 0.99), log.first_step("test_acc", 0.5)
    at = log.steps.index(s_train)
    window = [a for s, a in zip(log.steps, log.test_acc) if s_train <= s < s_test]
    return {"seed": seed, "step_train_0.99": s_train, "test_acc_then": _r(log.test_acc[at], 3),
            "test_loss_then": _r(log.test_loss[at], 2), "test_loss_init": _r(log.test_loss[0], 2),
            "step_test_0.5": s_test, "ratio": _r(s_test / s_train, 1), "final_test_acc": _r(log.test_acc[-1], 3),
            "plateau_x_chance_max": _r(max(window) * 53, 1), "seconds": _r(log.seconds, 1)}


def long_run(seed: int, steps: int) -> dict:
    """The recipe of ``grokking_p53`` on another seed for ``steps`` steps: when does it memorise and generalise?"""
    from dataclasses import replace

    from mi_tutor.zoo.entries.grokking import GROK_P53

    spec = replace(GROK_P53, data_seed=seed, model_seed=seed, train=replace(GROK_P53.train, steps=steps,
                                                                                 checkpoint_every=0, log_every=50))
    _, log = spec.train_run(progress=False)
    first = {t: log.first_step("test_acc", t) for t in (0.5, 0.95, 0.99)}
    return {"seed": seed, "steps": steps, "step_train_0.99": log.first_step("train_acc", 0.99),
            **{f"step_test_{t}": s for t, s in first.items()}, "final_test_acc": _r(log.test_acc[-1], 3),
            "test_acc_every_500": [_r(a, 3) for s, a in zip(log.steps, log.test_acc) if s % 500 == 0],
            "seconds": _r(log.seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-live", action="store_true", help="skip the three live runs")
    ap.add_argument("--long", action="store_true", help="train grokking_p53's recipe on seeds 1 and 2, longer")
    ap.add_argument("--nanda", action="store_true", help="also measure grokking_p113_nanda, Nanda et al.'s recipe")
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = {"machine": {"platform": platform.platform(), "torch": torch.__version__,
                       "load_average": [round(x, 2) for x in os.getloadavg()]},
           "chance": {"p53": _r(1 / 53), "p113": _r(1 / 113)}, "shipped": [shipped(s) for s in RUNS]}
    for row in out["shipped"]:
        print({k: v for k, v in row.items() if k != "progress"})
    earlier = json.loads(args.output.read_text()) if args.output.exists() else {}
    out["nanda_p113"] = measure_run("grokking_p113_nanda") if args.nanda else earlier.get("nanda_p113")
    if args.nanda:
        print({k: v for k, v in out["nanda_p113"].items() if k not in ("progress", "recipe")})
    if args.no_live:  # keep the live runs of an earlier run
        out["live"] = earlier.get("live")
    else:
        out["live"] = [live(s) for s in (0, 1, 2)]
        for row in out["live"]:
            print(row)
    if args.long:
        out["long"] = [long_run(1, 6000), long_run(2, 4000)]
        for row in out["long"]:
            print(row)
    else:  # keep the long runs of an earlier --long
        out["long"] = earlier.get("long")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
