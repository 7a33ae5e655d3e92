"""Measure lesson 12's numbers on the planted host and its symbiotes; record them.

Usage::

    python bench/measure_symbiote.py                 # the shipped weights -> bench/results/symbiote.json
    python bench/measure_symbiote.py --host H.pt --sym S.pt --no-record   # candidate weights

Everything runs on one CPU thread, on 1,200 held-out scenes (seed 10**9), as the tests do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch

from mi_tutor import symbiote as S
from mi_tutor import zoo
from mi_tutor.vision.objects import object_names
from mi_tutor.zoo.entries.symbiote import PLANTED_HOST, objects_concept_data, planted_host_build, random_object_host, symbiote_build

RESULTS = Path(__file__).parent / "results" / "symbiote.json"


def _load(build, path: str | None, name: str):
    if path is None:
        return zoo.load(name, device="cpu")
    model = build()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def measure(host, sym=None, rand_sym=None, n: int = 1200) -> dict:
    """Every number the issue names, as a flat dict."""
    info = zoo.info(PLANTED_HOST)
    layer, planted, concept = info["planted_layer"], info["planted_channel"], info["planted_concept"]
    test = objects_concept_data(n, seed=10**9)
    on = test.has(concept)
    names = object_names()
    out: dict = {"scenes": n, "wheel_scenes": int(on.sum())}
    with torch.no_grad():
        pred = torch.cat([host(test.images[i:i + 400]) for i in range(0, n, 400)]).argmax(-1)
    out["accuracy"] = float((pred == test.labels).float().mean())
    out["per_class_accuracy"] = {c: round(float((pred[test.labels == k] == k).float().mean()), 3)
                                 for k, c in enumerate(names)}
    iou = S.dissection_scores(host, layer, test, concept)
    width = len(iou)
    top = iou.sort(descending=True)
    out.update(planted_iou=float(iou[planted]), planted_iou_rank=int((iou.argsort(descending=True) == planted).nonzero()[0, 0]),
               next_best_iou=float(top.values[1] if int(top.indices[0]) == planted else top.values[0]))
    abl = S.selectivity(host, layer, test, concept, S.ablation_gates([planted], width))
    out["ablate_planted"] = {"car_accuracy_drop": abl.target_drop, "other_accuracy_drop": abl.other_drop}
    if sym is None:
        return out
    with torch.no_grad():
        gates = sym.gates_from(sym(sym.read(host, test.images))[1])
    sel = S.selectivity(host, layer, test, concept, gates)
    touched = gates < 1 - 1e-3
    out.update(car_accuracy_before=sel.target_before, car_accuracy_drop=sel.target_drop,
               other_accuracy_drop=sel.other_drop,
               kl_without_wheels=S.faithfulness_kl(host, layer, test, concept, gates),
               channels_touched_car_scenes=float(touched[on].float().sum(-1).mean()),
               channels_touched_other_scenes=float(touched[~on].float().sum(-1).mean()),
               width=width)
    imp = S.mean_inhibition(sym, host, test)
    ag = S.agreement(imp, iou, k=3, planted=planted)
    out.update(planted_channel_rank=ag.planted_rank, spearman_with_iou=ag.spearman, precision_at_3=ag.precision_at_k,
               top_importance=ag.top_importance, top_importance_values=[round(float(imp[c]), 3) for c in ag.top_importance])
    k = max(1, math.ceil(out["channels_touched_car_scenes"]))
    rnd = [S.selectivity(host, layer, test, concept, S.ablation_gates(S.random_channels(width, k, s), width))
           for s in range(5)]
    out["random_k"] = {"k": k, "selectivity": [r.selectivity for r in rnd], "symbiote_selectivity": sel.selectivity}
    dis = S.selectivity(host, layer, test, concept, S.ablation_gates(iou.argsort(descending=True)[:k].tolist(), width))
    out["dissection_top_k"] = {"target_drop": dis.target_drop, "other_drop": dis.other_drop}
    j = sym.cfg.concepts.index(concept)
    out["wheel_auroc"] = S.auroc(sym.concept_logits(host, test.images)[:, j], on)
    out["wheel_auroc_probe"] = S.probe_aurocs(host, sym.cfg.read_layers, objects_concept_data(n, seed=5), test, [concept])[concept]
    if rand_sym is not None:
        out["wheel_auroc_random_host"] = S.auroc(rand_sym.concept_logits(random_object_host(0), test.images)[:, j], on)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", help="host state dict (default: the shipped plainnet_objects_planted)")
    ap.add_argument("--sym", help="symbiote state dict (default: the shipped symbiote_objects_planted)")
    ap.add_argument("--rand-sym", help="random-host symbiote state dict (default: shipped symbiote_objects_random)")
    ap.add_argument("--host-only", action="store_true", help="measure the host alone")
    ap.add_argument("--no-record", action="store_true", help="print only; do not write bench/results/symbiote.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    host = _load(planted_host_build, args.host, PLANTED_HOST)
    sym = rand_sym = None
    if not args.host_only:
        sym = _load(symbiote_build, args.sym, "symbiote_objects_planted")
        rand_sym = _load(symbiote_build, args.rand_sym, "symbiote_objects_random")
    out = measure(host, sym, rand_sym)
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["load_average"] = round(os.getloadavg()[0], 1)
    out["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(json.dumps(out, indent=1))
    if not args.no_record:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
