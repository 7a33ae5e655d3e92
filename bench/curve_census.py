"""The curve-detector census and the car / pose circuits, one fixed rule each, over every seed (issue 23).

Curve detectors: :func:`mi_tutor.circuits_vision.census.curve_census` (the strict rule of
:func:`mi_tutor.vision.tuning.strict_curve_detectors`: best arc >= 2x the line of its orientation and
>= 2x its worst orientation, one lobe <= 135 degrees wide at half height, preferred orientation = the
peak; 24 orientations x 7 curvatures, averaged over the 16 cosmetic probe styles) on ``layer2``-``layer4``
(``layer3`` only after the first two nets, to save time) of every object-world net of the zoo and of untrained twins of each architecture (seeds 0, 1, 2),
arc responses scaled by each unit's 99th percentile on 512 scenes of the world (seed 777): over all
positions (``arc_ratio``) and over the scenes' spatial maxima (``arc_ratio_top``).

Car composition (``layer3`` -> first conv of ``layer4``), two rules, both fixed in the library:
``lesson`` = ``findings.composition`` defaults (part units by their masks, car unit by mean
selectivity) and ``arrangement`` = ``COMPOSITION_READ`` (part units by contrast, car unit against its
nearest other kind), each on 1,024 scenes (seed 12345) of the net's world. Pose circuit:
``findings.pose_circuit`` (1,024 scenes, seed 54321). Results: ``bench/results/curve_census.json``.

    nice -n 10 python bench/curve_census.py            # every net not yet measured (about 2 min a net under load)
    python bench/curve_census.py --record               # copy the verdicts into mi_tutor/zoo/measured/curve_census.json
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch

from mi_tutor import zoo
from mi_tutor.circuits_vision import findings as F
from mi_tutor.circuits_vision.census import curve_census
from mi_tutor.zoo import untrained_twin
from mi_tutor.vision.objects import WRECK_WORLD, ObjectWorldConfig, render_objects
from mi_tutor.vision.tuning import STRICT_RULE
from mi_tutor.zoo.entries.objects import COMPOSITION_READ

RESULTS = Path(__file__).parent / "results" / "curve_census.json"
LAYERS = ("layer3",)   # the lesson's stage (the first two nets measured also have layer2 and layer4)
TRAINED = [f"{a}_objects_s{s}" for a in ("vgg", "resnet", "plainnet") for s in (0, 1, 2)] + ["vgg_wreck_s1"]
UNTRAINED = [f"{a}_untrained_s{s}" for a in ("vgg", "resnet", "plainnet") for s in (0, 1, 2)]
RULES = {"lesson": {}, "arrangement": dict(COMPOSITION_READ)}


def net_of(name: str):
    if "_untrained_" in name:
        arch, seed = name.split("_")[0], int(name[-1])
        return untrained_twin(arch, seed), ObjectWorldConfig()
    return zoo.load(name, device="cpu").eval(), WRECK_WORLD if "wreck" in name else ObjectWorldConfig()


def measure(name: str) -> dict:
    net, world = net_of(name)
    scenes = render_objects(512, seed=777, config=world).images
    row: dict = {"curves": {}}
    for layer in LAYERS:
        c = curve_census(net, layer, scenes)
        row["curves"][layer] = c.row() | {
            "channels": c.family.channels,
            "peaks_deg": [round(math.degrees(float(a))) for a in c.family.orientations]}
    batch = render_objects(1024, seed=12345, config=world)
    row["car"] = {}
    for rule, kw in RULES.items():
        comp = F.composition(net, "layer3", batch=batch, n_shuffles=200, **kw)
        row["car"][rule] = {"object_unit": comp.object_unit, "part_units": list(comp.part_units),
                            "holds": comp.holds,
                            "wheel_bottom_top": [round(float(comp.bottom[0]), 4), round(float(comp.top[0]), 4)],
                            "window_bottom_top": [round(float(comp.bottom[1]), 4), round(float(comp.top[1]), 4)],
                            "r": round(comp.vertical_corr, 3), "p": round(comp.vertical_p, 3)}
    if "wreck" not in name:
        pose = F.pose_circuit(net, "layer3")
        row["pose"] = {"units": [pose.left_unit, pose.right_unit, pose.invariant_unit],
                       "index": [round(float(pose.left_index[pose.left_unit]), 3),
                                 round(float(pose.left_index[pose.right_unit]), 3)],
                       "invariant_index": round(pose.invariant_index, 3),
                       "invariant_score": round(pose.invariant_score, 2),
                       "weights": [round(float(w), 4) for w in pose.weights], "holds": pose.holds}
    return row


def summary(res: dict) -> dict:
    out: dict = {}
    for arch in ("vgg", "resnet", "plainnet"):
        for kind in ("objects", "untrained"):
            names = [n for n in res["nets"] if n.startswith(f"{arch}_{kind}_")]
            rows = [res["nets"][n] for n in names]
            c3 = [r["curves"]["layer3"] for r in rows]
            out[f"{arch}_{kind}"] = {
                "layer3_members": [c["members"] for c in c3], "layer3_gap_deg": [c["max_gap_deg"] for c in c3],
                "layer3_arc_ratio_median": [c["arc_ratio_median"] for c in c3],
                "layer3_arc_ratio_top_median": [c["arc_ratio_top_median"] for c in c3],
                "full_families_layer3": sum(r["curves"]["layer3"]["full"] for r in rows),
                "car_lesson_rule": sum(r["car"]["lesson"]["holds"] for r in rows),
                "car_arrangement_rule": sum(r["car"]["arrangement"]["holds"] for r in rows),
                "pose": sum(r["pose"]["holds"] for r in rows), "seeds": len(rows)}
    return out


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    res = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"nets": {}}
    res["rule"] = {"strict": STRICT_RULE, "full_family": {"min_members": 16, "max_gap_deg": 45},
                   "orientations": 24, "scenes": "render_objects(512, seed=777) of the net's world"}
    for name in names:
        if name in res["nets"] and "--again" not in sys.argv:
            continue
        t = time.time()
        res["nets"][name] = measure(name) | {"seconds": round(time.time() - t)}
        print(name, {l: res["nets"][name]["curves"][l]["members"] for l in LAYERS},
              res["nets"][name]["car"]["lesson"]["holds"], f"{time.time() - t:.0f}s", flush=True)
        res["summary"] = summary(res)
        res["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        RESULTS.write_text(json.dumps(res, indent=1) + "\n")


def record() -> None:
    """Copy the layer3 census, car and pose verdicts into ``mi_tutor/zoo/measured/curve_census.json``."""
    res = json.loads(RESULTS.read_text())
    path = Path(__file__).parents[1] / "mi_tutor" / "zoo" / "measured" / "curve_census.json"
    keep = ("members", "units", "max_gap_deg", "arc_ratio_median", "arc_ratio_max", "arc_ratio_top_median",
            "arc_ratio_top_max", "full", "peaks_deg")
    measured = {
        "_about": "bench/curve_census.py: the strict rule (STRICT_RULE) on layer3 over 24 orientations, arcs / each "
                  "unit's 99th percentile on render_objects(512, seed=777) of the net's world (all positions: "
                  "arc_ratio; spatial maxima: arc_ratio_top); car composition under two fixed rules on 1,024 "
                  "scenes (seed 12345); pose circuit (findings.pose_circuit). Untrained twins: "
                  "zoo.untrained_twin(arch, seed).",
        "rule": res["rule"],
        "nets": {n: {k: r["curves"]["layer3"][k] for k in keep} for n, r in res["nets"].items()},
        "car": {n: {rule: r["car"][rule]["holds"] for rule in RULES} for n, r in res["nets"].items()},
        "car_r": {n: r["car"]["lesson"]["r"] for n, r in res["nets"].items()},
        "pose": {n: r["pose"]["holds"] for n, r in res["nets"].items() if "pose" in r},
    }
    path.write_text(json.dumps(measured, indent=1) + "\n")


if __name__ == "__main__":
    if "--record" in sys.argv:
        record()
    else:
        main([a for a in sys.argv[1:] if not a.startswith("--")] or TRAINED + UNTRAINED)
