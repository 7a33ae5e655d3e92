"""Lesson 7's universality claims beside their controls; records bench/results/universality_controls.json.

Every claim of the lesson (CKA across seeds and tasks, matched-unit correlations, mutual k-NN,
stitching, the family census, image-caption alignment) measured on the shipped nets and on
untrained nets of the same architectures (seeds 0, 1, 2), on the lesson's scenes (seed 10**6)
and on fresh scenes (seed 10**6 + 7). Stitches: least squares (the lesson's) and trained
(``un.train_stitch``, least-squares start, Adam on the target's loss).

Usage::

    nice -n 10 python bench/universality_controls.py            # ~5 min on one thread
    nice -n 10 python bench/universality_controls.py --quick    # no trained stitches
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mi_tutor import hooks, zoo
from mi_tutor import universality as un
from mi_tutor.vision.objects import render_objects

RESULTS = Path(__file__).parent / "results" / "universality_controls.json"
SEEDS = [f"plainnet_short_s{s}" for s in (0, 1, 2)]
ARCH = {"plainnet": "plainnet_objects_s0", "resnet": "resnet_objects_s0", "vgg": "vgg_objects_s0"}
COUNT = "plainnet_count_s0"
LAYERS = ["layer1", "layer2", "layer3", "layer4"]
PAIRS = [(0, 1), (0, 2), (1, 2)]


def r(x, d=3):
    return round(float(x), d)


def spread(values):
    t = torch.tensor([float(v) for v in values])
    return {"mean": r(t.mean()), "min": r(t.min()), "max": r(t.max()), "values": [r(v) for v in t]}


def measure(scene_seed: int, trained_stitches: bool) -> dict:
    scenes = render_objects(400, seed=scene_seed)
    images, labels = scenes.images, scenes.labels
    nets = {n: zoo.load(n, device="cpu") for n in SEEDS + list(ARCH.values()) + [COUNT]}
    untrained = {f"{a}_u{s}": zoo.untrained(ARCH[a], s) for a in ARCH for s in (0, 1, 2)}
    feats = {n: hooks.collect(m, images, LAYERS, pool="mean") for n, m in {**nets, **untrained}.items()}
    out: dict = {"scene_seed": scene_seed}

    def per_layer(fn, pairs):
        return {l: spread([fn(feats[a][l], feats[b][l]) for a, b in pairs]) for l in LAYERS}

    seed_pairs = [(SEEDS[i], SEEDS[j]) for i, j in PAIRS]
    u_pairs = [(f"plainnet_u{i}", f"plainnet_u{j}") for i, j in PAIRS]
    out["cka_same_layer"] = {
        "seeds (plainnet_short)": per_layer(un.linear_cka, seed_pairs),
        "untrained plainnet pairs": per_layer(un.linear_cka, u_pairs),
        "objects vs counting": per_layer(un.linear_cka, [(ARCH["plainnet"], COUNT)]),
        "untrained vs trained plainnet": per_layer(un.linear_cka, [(f"plainnet_u{s}", ARCH["plainnet"]) for s in (0, 1, 2)]),
    }
    matched = lambda A, B: float(un.match_units(A, B).mean)
    out["matched_correlation"] = {
        "seeds (plainnet_short)": per_layer(matched, seed_pairs),
        "untrained plainnet pairs": per_layer(matched, u_pairs),
        "untrained vs trained plainnet": per_layer(matched, [(f"plainnet_u{s}", ARCH["plainnet"]) for s in (0, 1, 2)]),
        "vgg vs plainnet": per_layer(matched, [(ARCH["vgg"], ARCH["plainnet"])]),
        "untrained vgg vs untrained plainnet": per_layer(matched, [(f"vgg_u{s}", f"plainnet_u{s}") for s in (0, 1, 2)]),
    }
    knn = un.mutual_knn_alignment
    out["mutual_knn_layer4"] = {
        "seeds": spread([knn(feats[a]["layer4"], feats[b]["layer4"]) for a, b in seed_pairs]),
        "untrained pairs (same arch)": spread([knn(feats[f"{a}_u{i}"]["layer4"], feats[f"{a}_u{j}"]["layer4"])
                                               for a in ARCH for i, j in PAIRS]),
        "trained vs untrained": spread([knn(feats[ARCH[a]]["layer4"], feats[f"{a}_u{s}"]["layer4"])
                                        for a in ARCH for s in (0, 1, 2)]),
    }
    ident = lambda pairs: un.identification_accuracy(
        [un.correspondence_map(feats[a], feats[b], un.linear_cka) for a, b in pairs])
    out["layer_identification"] = {"seeds": r(ident(seed_pairs + [(b, a) for a, b in seed_pairs])),
                                   "untrained plainnet pairs": r(ident(u_pairs + [(b, a) for a, b in u_pairs]))}
    # stitching: seeds s0 -> s1, s1 -> s2, s2 -> s0; least squares and trained; and an untrained bottom
    fit = render_objects(128, seed=scene_seed + 1).images
    held, yh = images[:200], labels[:200]
    st: dict = {"target_accuracy": {n: r(un.stitch_accuracy(nets[n], held, yh)) for n in SEEDS}}
    for kind in ("lstsq", "trained") if trained_stitches else ("lstsq",):
        rows = {}
        for l in LAYERS:
            accs, t0 = [], time.perf_counter()
            for a, b in ((0, 1), (1, 2), (2, 0)):
                na, nb = nets[SEEDS[a]], nets[SEEDS[b]]
                if kind == "lstsq":
                    conv = un.stitch_init_lstsq(na, nb, l, l, fit)
                    s = un.StitchedNet(na, nb, l, l, 64)
                    s.stitch = conv
                else:
                    s = un.train_stitch(na, nb, l, l, lambda n, seed: (lambda o: (o.images, o.labels))(
                        render_objects(n, seed=10**7 + seed)), un.StitchConfig(steps=200, batch_size=32))
                accs.append(un.stitch_accuracy(s, held, yh) / un.stitch_accuracy(nb, held, yh))
            rows[l] = {**spread(accs), "seconds_each": r((time.perf_counter() - t0) / 3, 1)}
        st[f"{kind} (fraction of target accuracy)"] = rows
    rows = {}
    for l in LAYERS:                      # control: an untrained bottom net stitched into a trained top
        accs = []
        for s_, b in ((0, 1), (1, 2), (2, 0)):
            na, nb = untrained[f"plainnet_u{s_}"], nets[SEEDS[b]]
            s = un.StitchedNet(na, nb, l, l, 64)
            s.stitch = un.stitch_init_lstsq(na, nb, l, l, fit)
            accs.append(un.stitch_accuracy(s, held, yh) / un.stitch_accuracy(nb, held, yh))
        rows[l] = spread(accs)
    st["lstsq from an untrained bottom (fraction of target accuracy)"] = rows
    out["stitching"] = st
    # census
    census = un.family_census({**{n: nets[n] for n in SEEDS + list(ARCH.values()) + [COUNT]},
                               **{k: v for k, v in untrained.items()}}, image_size=64, n_orientations=16)
    best = {}
    for name in dict.fromkeys(c.net for c in census):
        rows_ = [c for c in census if c.net == name]
        b = min(rows_, key=lambda c: (c.curve_max_gap, -c.curve_units))
        best[name] = {"best_layer": b.layer, "curve_units": b.curve_units, "max_gap_deg": b.curve_max_gap,
                      "largest_family": max(c.curve_units for c in rows_), "edge_units": rows_[0].edge_units,
                      "edge_bins": rows_[0].edge_bins, "units_layer1": rows_[0].units}
    out["census"] = best
    # image-caption alignment: caption model, untrained text model, bag of words
    caps = un.scene_captions(scenes)
    tokens = un.caption_tokens(caps)
    lm = zoo.load("caption_lm", device="cpu")
    text = un.caption_features(lm, tokens)
    bow = un.bag_of_words(tokens)
    torch.manual_seed(0)
    lm_u = type(lm)(lm.cfg).eval()
    text_u = un.caption_features(lm_u, tokens)
    al = {}
    for name in SEEDS + list(ARCH.values()) + [COUNT, "plainnet_u0", "plainnet_u1"]:
        al[name] = {"caption_lm": [r(knn(feats[name][l], text)) for l in LAYERS],
                    "bag_of_words": [r(knn(feats[name][l], bow)) for l in LAYERS],
                    "untrained_lm": [r(knn(feats[name][l], text_u)) for l in LAYERS]}
    out["alignment"] = al
    out["alignment_text_vs_bow"] = {"caption_lm vs bag_of_words": r(knn(text, bow)),
                                    "untrained_lm vs bag_of_words": r(knn(text_u, bow))}
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    res = {"_about": __doc__.split("\n\n")[0], "command": "nice -n 10 python bench/universality_controls.py",
           "lesson_scenes": measure(10**6, not args.quick), "fresh_scenes": measure(10**6 + 7, False)}
    res["seconds"] = r(time.perf_counter() - t0, 0)
    text = json.dumps(res, indent=1)
    print(text)
    if not args.no_record:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
