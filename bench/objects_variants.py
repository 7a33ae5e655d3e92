"""Variants of the object world / zoo recipe tried for the circle and car-composition findings of lesson 4.

Each variant trains one net on the object task only (one CPU thread), saves its weights under
``--out`` (default ``/tmp/variants``) and records accuracy and train time in
``bench/results/objects_variants.json``; ``bench/objects_arrangement.py`` measures the saved nets.

    python bench/objects_variants.py list
    python bench/objects_variants.py train wreck_vgg_s1
    python bench/objects_arrangement.py wreck_vgg_s1
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from mi_tutor.device import seed_everything
from mi_tutor.vision.architectures import ZooNetConfig, build_zoo_net
from mi_tutor.vision.objects import OBJECT_KINDS, ObjectWorldConfig, render_objects
from mi_tutor.vision.train import ClassifierTrainConfig, classifier_accuracy, train_classifier

RESULTS = Path(__file__).parent / "results" / "objects_variants.json"
BIG = (0.55, 0.85)
WRECK = OBJECT_KINDS + ("wreck",)
SWAP = OBJECT_KINDS + ("swap",)


@dataclass
class Variant:
    arch: str = "vgg"
    channels: tuple[int, ...] = (8, 16, 48, 64)
    world: dict = field(default_factory=dict)
    steps: int = 600
    seed: int = 0
    lr: float = 3e-3

    def config(self) -> ObjectWorldConfig:
        return ObjectWorldConfig(**self.world)


VARIANTS: dict[str, Variant] = {
    # larger objects: the wheel-window offset spans about two 8-px taps of layer4
    "big_vgg_s0": Variant(world={"scale": BIG}),
    # larger objects + the upside-down car (same parts, other arrangement) as a tenth kind
    "wreck_vgg_s0": Variant(world={"scale": BIG, "kinds": WRECK}),
    "wreck_vgg_s1": Variant(world={"scale": BIG, "kinds": WRECK}, seed=1),
    "wreck_vgg_s2": Variant(world={"scale": BIG, "kinds": WRECK}, seed=2),
    # the same world, twice the steps
    "wreck_vgg_long_s0": Variant(world={"scale": BIG, "kinds": WRECK}, steps=1200),
    # five stages (layer5 at 4 x 4)
    "wreck_vgg5_s0": Variant(world={"scale": BIG, "kinds": WRECK}, channels=(8, 16, 32, 48, 64)),
    # larger objects + the car with wheels and windows swapped (same body and roof) as a tenth kind
    "swap_vgg_s0": Variant(world={"scale": BIG, "kinds": SWAP}),
    "swap_vgg_s1": Variant(world={"scale": BIG, "kinds": SWAP}, seed=1),
}


def train(name: str, out: Path) -> dict:
    torch.set_num_threads(1)
    v = VARIANTS[name]
    world = v.config()
    cfg = ZooNetConfig(channels=v.channels, n_classes=len(world.kinds))
    seed_everything(v.seed)
    net = build_zoo_net(v.arch, cfg)
    t0, c0 = time.time(), time.process_time()
    net = train_classifier(net, lambda n, s: (lambda b: (b.images, b.labels))(render_objects(n, s, world)),
                           ClassifierTrainConfig(steps=v.steps, batch_size=64, lr=v.lr, weight_decay=1e-4, seed=v.seed),
                           progress=False)
    wall, cpu = time.time() - t0, time.process_time() - c0
    test = render_objects(2000, seed=10**9, config=world)
    acc = classifier_accuracy(net, test.images, test.labels)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), out / f"{name}.pt")
    row = {"variant": asdict(v), "accuracy": round(acc, 4), "train_s": round(wall), "train_cpu_s": round(cpu),
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    _record(name, row)
    return row


def load(name: str, out: Path):
    v = VARIANTS[name]
    net = build_zoo_net(v.arch, ZooNetConfig(channels=v.channels, n_classes=len(v.config().kinds)))
    net.load_state_dict(torch.load(out / f"{name}.pt"))
    return net.eval()


def _record(name: str, row: dict) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault(name, {}).update(row)
    RESULTS.write_text(json.dumps(data, indent=1, default=str) + "\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["train", "list"])
    ap.add_argument("name", nargs="?")
    ap.add_argument("--out", type=Path, default=Path("/tmp/variants"))
    a = ap.parse_args()
    if a.what == "list":
        print("\n".join(VARIANTS))
    else:
        print(json.dumps(train(a.name, a.out)))
