"""Lesson 12's controls: the symbiote recipe on a trained host without a planted channel, and single-channel zeroing.

* Ranking control: ``symbiote_objects_unplanted`` (the shipped symbiote's recipe on ``plainnet_objects_s0``)
  against ``symbiote_objects_planted``: each one's importance (mean ``1 - gate`` on wheel scenes), its top
  channels and the first/second ratio, and what its gates do to the car accuracy and the other classes'.
* "The layers above take the wheels from the planted channel alone": zero each ``layer3`` channel of the
  planted host alone and measure the car accuracy drop, the share of cars turned into carts and the
  other classes' drop.

Usage::

    PYTHONPATH=$PWD nice -n 10 python bench/symbiote_controls.py     # -> bench/results/symbiote_controls.json

Scenes: ``objects_concept_data(1200, seed=10**9 + 1)``, which the lesson never uses; one CPU thread.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from mi_tutor import symbiote as S
from mi_tutor import zoo
from mi_tutor.vision.objects import object_names
from mi_tutor.zoo.entries.symbiote import PLANTED_HOST, UNPLANTED_HOST, objects_concept_data

RESULTS = Path(__file__).parent / "results" / "symbiote_controls.json"


def r(x, d=3):
    return round(float(x), d)


def ranking(sym, host, test, layer, concept) -> dict:
    imp = S.mean_inhibition(sym, host, test)
    order = imp.argsort(descending=True)
    with torch.no_grad():
        gates = sym.gates_from(sym(sym.read(host, test.images))[1])
    sel = S.selectivity(host, layer, test, concept, gates)
    on = test.has(concept)
    return {"top6": order[:6].tolist(), "top6_importance": [r(imp[c]) for c in order[:6]],
            "first_over_second": r(imp[order[0]] / imp[order[1]]),
            "channels_above_half_of_first": int((imp >= 0.5 * imp[order[0]]).sum()),
            "car_accuracy_drop": r(sel.target_drop), "other_accuracy_drop": r(sel.other_drop),
            "channels_touched_car_scenes": r((gates[on] < 1 - 1e-3).float().sum(-1).mean(), 2)}


def zero_each(host, test, layer, concept, width) -> dict:
    car, cart = object_names().index("car"), object_names().index("cart")
    cars = test.labels == car
    rows = {}
    for c in range(width):
        logits = S.gated_logits(host, layer, test.images, S.ablation_gates([c], width))
        pred = logits.argmax(-1)
        sel = S.selectivity(host, layer, test, concept, S.ablation_gates([c], width))
        rows[c] = {"car_drop": r(sel.target_drop), "cars_to_carts": r((pred[cars] == cart).float().mean()),
                   "other_drop": r(sel.other_drop)}
    return rows


def main() -> None:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    info = zoo.info(PLANTED_HOST)
    layer, planted, concept = info["planted_layer"], info["planted_channel"], info["planted_concept"]
    test = objects_concept_data(1200, seed=10**9 + 1)
    planted_host, plain_host = zoo.load(PLANTED_HOST, device="cpu"), zoo.load(UNPLANTED_HOST, device="cpu")
    out = {"_about": __doc__.split("\n\n")[0], "command": "PYTHONPATH=$PWD nice -n 10 python bench/symbiote_controls.py",
           "scenes": "objects_concept_data(1200, seed=10**9 + 1)", "planted_channel": planted}
    out["planted host, symbiote_objects_planted"] = ranking(zoo.load("symbiote_objects_planted", device="cpu"),
                                                            planted_host, test, layer, concept)
    out[f"{UNPLANTED_HOST}, symbiote_objects_unplanted"] = ranking(zoo.load("symbiote_objects_unplanted", device="cpu"),
                                                                   plain_host, test, layer, concept)
    iou = S.dissection_scores(plain_host, layer, test, concept)
    out[f"{UNPLANTED_HOST} dissection top6"] = [(int(c), r(iou[c])) for c in iou.argsort(descending=True)[:6]]
    width = len(iou)
    rows = zero_each(planted_host, test, layer, concept, width)
    by_drop = sorted(rows, key=lambda c: -rows[c]["cars_to_carts"])
    out["planted host, each layer3 channel zeroed alone (top 6 by cars turned into carts)"] = {c: rows[c] for c in by_drop[:6]}
    out["seconds"] = r(time.perf_counter() - t0, 0)
    text = json.dumps(out, indent=1)
    print(text)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
