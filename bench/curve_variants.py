"""Training variants aimed at real curve families (issue 23, wanted 1): train one, census it against untrained twins.

Each variant trains one zoo net on the object world with a change meant to make curve detectors
pay (augmentation, width, steps), then measures ``layer3`` with the strict census
(:func:`mi_tutor.circuits_vision.census.curve_census`, 24 orientations, scenes ``render_objects(512, 777)``),
the same as ``bench/curve_census.py`` measures the shipped nets and their untrained twins. A row records
what was tried, its training seconds, the accuracy on 2,000 held-out (unaugmented) scenes, the family
(members, largest gap), the arc / scene-p99 ratios and the untrained twins' numbers from
``bench/results/curve_census.json``. Results: ``bench/results/curve_variants.json`` (its ``verdict`` fields
are written by hand after reading a row).

    nice -n 10 python bench/curve_variants.py aug_vgg_s0
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from mi_tutor.circuits_vision.census import curve_census
from mi_tutor.device import seed_everything
from mi_tutor.vision.architectures import ZooNetConfig, build_zoo_net
from mi_tutor.vision.objects import ObjectWorldConfig, render_objects
from mi_tutor.vision.train import ClassifierTrainConfig, classifier_accuracy, train_classifier

RESULTS = Path(__file__).parent / "results" / "curve_variants.json"
CENSUS = Path(__file__).parent / "results" / "curve_census.json"
OUT = Path("/tmp/curve_variants")


@dataclass
class Variant:
    arch: str = "vgg"
    channels: tuple[int, ...] = (8, 16, 48, 64)
    steps: int = 600
    seed: int = 0
    rotate: bool = False        # a random rotation of every training scene (any angle)
    scale: tuple[float, float] = (1.0, 1.0)   # random zoom of every training scene
    colour: bool = False        # random channel permutation, gain and inversion: colour carries no label
    note: str = ""


VARIANTS: dict[str, Variant] = {
    "aug_vgg_s0": Variant(rotate=True, scale=(0.8, 1.25), colour=True,
                          note="rotation + zoom + colour jitter of every training scene"),
}


def augment(images: torch.Tensor, v: Variant, seed: int) -> torch.Tensor:
    """Rotate, zoom and recolour ``[n, 3, H, W]`` scenes as ``v`` says (reflection padding)."""
    g = torch.Generator().manual_seed(seed)
    n = len(images)
    angle = torch.rand(n, generator=g) * 2 * math.pi if v.rotate else torch.zeros(n)
    zoom = v.scale[0] + torch.rand(n, generator=g) * (v.scale[1] - v.scale[0])
    c, s = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([c, -s, torch.zeros(n)], 1), torch.stack([s, c, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if v.colour:
        perm = torch.stack([torch.randperm(3, generator=g) for _ in range(n)])
        out = out.gather(1, perm[:, :, None, None].expand_as(out))
        gain = 0.6 + 0.8 * torch.rand(n, 3, 1, 1, generator=g)
        mean = out.mean(dim=(2, 3), keepdim=True)
        out = (mean + (out - mean) * gain).clamp(0, 1)
        flip = torch.rand(n, 1, 1, 1, generator=g) < 0.5
        out = torch.where(flip, 1 - out, out)
    return out


def train(name: str) -> dict:
    torch.set_num_threads(1)
    v = VARIANTS[name]
    world = ObjectWorldConfig()
    seed_everything(v.seed)
    net = build_zoo_net(v.arch, ZooNetConfig(channels=v.channels, n_classes=len(world.kinds)))

    def batch(n: int, s: int):
        b = render_objects(n, s, world)
        return augment(b.images, v, s), b.labels

    t0 = time.time()
    net = train_classifier(net, batch, ClassifierTrainConfig(steps=v.steps, batch_size=64, lr=3e-3,
                                                             weight_decay=1e-4, seed=v.seed), progress=False)
    wall = time.time() - t0
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), OUT / f"{name}.pt")
    test = render_objects(2000, seed=10**9, config=world)
    census = curve_census(net, "layer3", render_objects(512, seed=777).images)
    untrained = json.loads(CENSUS.read_text())["nets"] if CENSUS.exists() else {}
    twins = {k: r["curves"]["layer3"] for k, r in untrained.items() if k.startswith(f"{v.arch}_untrained_")}
    row = {"variant": asdict(v), "train_s": round(wall), "accuracy": round(classifier_accuracy(net, test.images,
                                                                                                test.labels), 4),
           "layer3": census.row() | {"peaks_deg": [round(math.degrees(float(a))) for a in census.family.orientations]},
           "untrained_twins_layer3": {k: {f: r[f] for f in ("members", "max_gap_deg", "arc_ratio_median",
                                                            "arc_ratio_top_median")} for k, r in twins.items()},
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = row
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    return row


if __name__ == "__main__":
    for a in sys.argv[1:]:
        print(json.dumps(train(a)))
