"""The car composition and circle units, measured one way on every object-world net and variant.

For each net: the composition read from ``layer3`` into the first conv of ``layer4``
(``findings.composition(..., read="conv", parts_by="contrast", selectivity="min")``) on
2,048 scenes of the net's own world, over ``--seeds`` samplings of the scenes: whether the strict
pattern holds for the most car-specific unit, the population correlation ``r`` (units preferring
wheels over windows are wanted below) with its permutation p, and the base rate: of all ``layer4``
units, how many show the strict pattern with the same two part units. Circle units from the
``layer3`` curve family (``findings.circle_units``, 3 x 3 first-conv weights). Results go to
``bench/results/objects_arrangement.json``.

    python bench/objects_arrangement.py vgg_objects_s1 wreck_vgg_s1
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import objects_variants as V  # noqa: E402

from mi_tutor import zoo  # noqa: E402
from mi_tutor.vision import findings as F  # noqa: E402
from mi_tutor.vision.objects import ObjectWorldConfig, render_objects  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "objects_arrangement.json"


def world_of(name: str) -> ObjectWorldConfig:
    if name in V.VARIANTS:
        return V.VARIANTS[name].config()
    info = zoo.info(name)
    return eval(info.get("world", "ObjectWorldConfig()"), {"ObjectWorldConfig": ObjectWorldConfig,
                                                            "OBJECT_KINDS": __import__("mi_tutor.vision.objects",
                                                                                       fromlist=["x"]).OBJECT_KINDS})


def measure(name: str, seeds=(12345, 1, 2), circles: bool = True) -> dict:
    torch.set_num_threads(1)
    net = V.load(name, Path("/tmp/variants")) if name in V.VARIANTS else zoo.load(name, device="cpu")
    world = world_of(name)
    row: dict = {"world": repr(world.kinds[9:]) + f" scale={world.scale}", "composition": []}
    weight, _ = F.stage_entry(net, "layer3")
    for seed in seeds:
        batch = render_objects(2048, seed=seed, config=world)
        c = F.composition(net, "layer3", batch=batch, read="conv", parts_by="contrast", selectivity="min")
        wu, nu = c.part_units
        kw, kn = weight[:, wu], weight[:, nu]
        base = int(((kw[:, -1].mean(-1) > 0) & (kw[:, 0].mean(-1) < 0)
                    & (kn[:, 0].mean(-1) > 0) & (kn[:, -1].mean(-1) < 0)).sum())
        row["composition"].append({
            "seed": seed, "object_unit": c.object_unit, "object_score": round(c.object_score, 3),
            "part_units": list(c.part_units), "holds": c.holds,
            "wheel_bottom_top": [round(float(c.bottom[0]), 4), round(float(c.top[0]), 4)],
            "window_bottom_top": [round(float(c.bottom[1]), 4), round(float(c.top[1]), 4)],
            "r": round(c.vertical_corr, 3), "p": round(c.vertical_p, 4),
            "units_with_pattern": base, "units": int(weight.shape[0])})
    if circles:
        fam = F.layer_curve_family(net, "layer3")
        row["curve_family_layer3"] = [len(fam), round(math.degrees(fam.max_gap))]
        if len(fam) >= 2:
            cu = F.circle_units(net, "layer3", fam)
            row["circle_units"] = len(cu.channels)
            row["circle_best_alignment"] = round(float(cu.alignment.max()), 3)
    return row


if __name__ == "__main__":
    names = sys.argv[1:]
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        data[name] = measure(name)
        print(name, json.dumps(data[name]), flush=True)
        RESULTS.write_text(json.dumps(data, indent=1) + "\n")
