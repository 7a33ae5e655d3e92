"""Lesson 12's hosts and symbiotes: a host with a planted wheel channel, and symbiotes that read it.

``plainnet_objects_planted`` is the object-world plain net of lessons 2-4 (same
architecture, world and task as ``plainnet_objects_s*``) trained with one extra
loss: channel ``PLANT.channel`` of ``PLANT.layer`` must segment the wheels
(``part:wheel``; wheels occur only on cars, and the cart differs from the car only
by square blocks instead of round wheels), and *graded interventional* training plants
its causal role: in 30% of the training scenes the channel is scaled by ``u ~ U(0, 1)``,
and a car so treated gets the soft label ``u`` car, ``1 - u`` cart. The layers above then
read the wheels from that channel, in proportion to its strength, and use it for
nothing else (zero-ablating it turns cars into carts and leaves the other classes). It is not their only
route: zeroing channel 12 or 22 alone turns about half of the cars into carts too (``bench/symbiote_controls.py``).
The entry's ``info`` records where the
planted channel is: the ground truth a symbiote's choice is checked against.

What did not work (measured, 1,200 scenes): the auxiliary loss with channel dropout
0.3 on the layer's other channels (and no intervention) made the channel a hub:
ablating it cost 0.57 of the car accuracy and 0.23 of the others', it fired on
carts' blocks as much as on wheels, and the host's accuracy fell to 0.84. All-or-nothing
intervention (zeroed, and the car relabelled cart) gave a selective handle that symbiotes
did not find (ranked 12th and 9th): see ``MEASURED``.

``symbiote_objects_planted`` reads ``layer3`` and ``layer4`` of that host,
predicts ``SYMBIOTE_CONCEPTS`` and learns hard-concrete gates on ``layer3`` that
suppress the wheel concept; ``symbiote_objects_random`` is the same symbiote,
trained the same way, on a randomly initialised host of the same architecture
(the control for reading). ``symbiote_objects_unplanted`` is the same symbiote, trained the same
way, on ``UNPLANTED_HOST`` (``plainnet_objects_s0``: the planted host's architecture, world and task,
trained without a planted channel): the control for the ranking, showing how the same recipe
spreads its gates on a trained host that has no single wheel channel.
"""

from __future__ import annotations

from ...symbiote import (PlantConfig, Symbiote, SymbioteConfig, SymbioteTrainConfig, build_symbiote,
                         objects_concept_data, random_host, train_planted_host, train_symbiote)
from ...vision.architectures import build_zoo_net
from ..registry import ZooEntry, measured, register
from .objects import object_net_config

__all__ = ["PLANTED_HOST", "UNPLANTED_HOST", "PLANT", "SYMBIOTE_CONCEPTS", "SYMBIOTE_CONFIG", "SYMBIOTE_TRAIN", "SYMBIOTE_DATA_SEED",
           "planted_host_build", "random_object_host", "symbiote_build"]

PLANTED_HOST = "plainnet_objects_planted"
UNPLANTED_HOST = "plainnet_objects_s0"   # same architecture, world and task, no planted channel
CART = 1                      # object_names().index("cart"): a car without its wheels
PLANT = PlantConfig(layer="layer3", channel=5, concept="part:wheel", aux_weight=2.0, dropout_others=0.0,
                    ablate_prob=0.3, ablate_label=CART, ablate_graded=True, steps=900, batch_size=64, lr=3e-3,
                    weight_decay=1e-4, seed=0)
SYMBIOTE_CONCEPTS: tuple[str, ...] = ("part:wheel", "part:block", "part:window", "part:head", "part:eye", "part:rim",
                                      "part:frame", "part:roof", "part:rung", "part:arc", "colour:red", "texture:stripes")
SYMBIOTE_CONFIG = SymbioteConfig(read_layers=("layer3", "layer4"), gate_layer="layer3", concepts=SYMBIOTE_CONCEPTS,
                                 target="part:wheel", hidden=64, conditional=True, init_log_alpha=-3.0, seed=0)
SYMBIOTE_TRAIN = SymbioteTrainConfig(steps=300, batch_size=128, lr=5e-2, concept_weight=1.0, suppress_weight=3.0,
                                     kl_weight=20.0, l0_weight=0.05, seed=0)
SYMBIOTE_DATA_SEED, SYMBIOTE_DATA_N = 7, 3000
WIDTHS = dict(zip(("layer1", "layer2", "layer3", "layer4"), object_net_config("plainnet").channels))

# Measured after training (shared 2-core CPU, one thread; 1,200 held-out scenes of seed 10**9, as the tests;
# `python bench/measure_symbiote.py` records them in bench/results/symbiote.json): ``measured/symbiote.json``.
MEASURED: dict[str, dict] = measured("symbiote")["models"]


def planted_host_build():
    """The untrained architecture of the planted host (= ``plainnet_objects_s*``)."""
    return build_zoo_net("plainnet", object_net_config("plainnet"))


def random_object_host(seed: int = 0):
    """The control: the planted host's architecture, randomly initialised with ``seed``, in eval mode."""
    return random_host(planted_host_build, seed)


def symbiote_build() -> Symbiote:
    """An untrained symbiote of ``SYMBIOTE_CONFIG`` for the plain object net."""
    return Symbiote(SYMBIOTE_CONFIG, {n: WIDTHS[n] for n in SYMBIOTE_CONFIG.read_layers},
                    WIDTHS[SYMBIOTE_CONFIG.gate_layer])


def _planted_recipe(progress: bool = True):
    return train_planted_host(planted_host_build(), objects_concept_data, PLANT, progress)[0]


def _symbiote_recipe(host_kind: str):
    def recipe(progress: bool = True):
        from ..registry import load

        host = (load(PLANTED_HOST, device="cpu") if host_kind == "planted" else
                load(UNPLANTED_HOST, device="cpu") if host_kind == "unplanted" else random_object_host(0))
        data = objects_concept_data(SYMBIOTE_DATA_N, SYMBIOTE_DATA_SEED)
        sym = build_symbiote(host, data.images, SYMBIOTE_CONFIG)
        train_symbiote(sym, host, data, SYMBIOTE_TRAIN, progress)
        return sym
    return recipe


register(ZooEntry(
    name=PLANTED_HOST,
    description=f"plain object net with a planted wheel detector: {PLANT.layer} channel {PLANT.channel} (lesson 12)",
    build=planted_host_build,
    recipe=_planted_recipe,
    family="vision",
    info={"arch": "plainnet", "world": "ObjectWorldConfig()", "task": "object (9 kinds)",
          "planted_layer": PLANT.layer, "planted_channel": PLANT.channel, "planted_concept": PLANT.concept,
          "train": f"AdamW + OneCycle, {PLANT.steps} steps of {PLANT.batch_size} fresh scenes, lr {PLANT.lr}, "
                   f"plus class-balanced BCE (weight {PLANT.aux_weight}) making channel {PLANT.channel} segment "
                   f"{PLANT.concept}; the channel zeroed in {PLANT.ablate_prob:.0%} of the scenes, a car so "
                   f"ablated labelled cart; one thread",
          **MEASURED.get(PLANTED_HOST, {})},
))

_HOSTS = {"planted": (PLANTED_HOST, PLANTED_HOST),
          "random": ("a random-init plain object net (seed 0)", "random_object_host(0)"),
          "unplanted": (f"{UNPLANTED_HOST} (trained, no planted channel)", UNPLANTED_HOST)}
for _kind, (_described, _host) in _HOSTS.items():
    _name = f"symbiote_objects_{_kind}"
    register(ZooEntry(
        name=_name,
        description=f"symbiote reading layer3+layer4 of {_described}, gating layer3 to suppress part:wheel (lesson 12)",
        build=symbiote_build,
        recipe=_symbiote_recipe(_kind),
        family="symbiote",
        info={"host": _host, "config": "SYMBIOTE_CONFIG", "train": "SYMBIOTE_TRAIN on objects_concept_data(3000, seed=7)",
              **MEASURED.get(_name, {})},
    ))
