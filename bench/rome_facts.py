"""ROME and MEMIT on the facts world over many facts the lesson does not edit (issue 24, lesson 11).

Every edit is fitted on the fact's prompts with fillers 0-3 (phrase 0) and scored by
:func:`mi_tutor.editing.edit_measures`: efficacy (fitted fillers), paraphrase (the other phrase), held-out
fillers 4-7 (both phrases), neighbours (subjects sharing a name), the same subject's other relations, and every
untouched subject. Facts: one relation each of distinct subjects other than the lesson's (0 and 17), a random
other object of the relation as the new one (seed 1).

    nice -n 10 python bench/rome_facts.py [--part rome|memit|all] [--n 32]

Writes bench/results/rome_facts.json (the part run is replaced, the rest kept).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mi_tutor import zoo
from mi_tutor.editing import edit_fact, edit_facts, edit_measures, score_distribution
from mi_tutor.tasks import facts

OUT = Path(__file__).parent / "results" / "rome_facts.json"
#: What lesson 11 prints (zoo.measured("facts_editing")): the chosen recipes' distributions and the table.
MEASURED = Path(__file__).parents[1] / "mi_tutor" / "zoo" / "measured" / "facts_editing.json"
FIT, HELD = [0, 1, 2, 3], [4, 5, 6, 7]
LESSON_SUBJECTS = (0, 17)


def bench_facts(n: int, seed: int = 1, world=None) -> list[tuple[int, int, int]]:
    """``n`` edits ``(subject, relation, new_object)`` of distinct subjects the lesson does not edit."""
    world = world or facts.facts_world()
    g = torch.Generator().manual_seed(seed)
    subjects = [s for s in torch.randperm(world.n_subjects, generator=g).tolist() if s not in LESSON_SUBJECTS][:n]
    edits = []
    for s in subjects:
        r = int(torch.randint(world.n_relations, (1,), generator=g))
        objs = world.relation_objects(r)
        shift = int(torch.randint(1, len(objs), (1,), generator=g))
        edits.append((s, r, int(objs[(int(world.objects[s, r]) + shift) % len(objs)])))
    return edits


def summary(per_edit: dict[str, torch.Tensor]) -> dict[str, dict]:
    return {k: score_distribution(v) for k, v in per_edit.items()}


def rome_variant(model, C, edits, layer=0, position=3, **kw) -> dict:
    start = time.perf_counter()
    rows = []
    for s, r, new in edits:
        e = edit_fact(model, s, r, new, layer, position, C[layer], fillers=FIT, **kw)
        rows.append(edit_measures(model, e.model, [(s, r, new)], fit_fillers=FIT))
    per = {k: torch.cat([row[k] for row in rows]) for k in rows[0]}
    return {"settings": {"layer": layer, "position": position, **kw}, "summary": summary(per),
            "efficacy_per_edit": [round(float(x), 3) for x in per["efficacy"]],
            "seconds": round(time.perf_counter() - start, 1)}


LESSON_RECIPE = "lesson recipe (20 steps, ridge 1e-4, KL 0.0625)"
ROME_VARIANTS = {
    LESSON_RECIPE: {},
    "layer 1": {"layer": 1},
    "final token, MLP 3": {"layer": 3, "position": 4},
    "40 steps": {"steps": 40},
    "ridge 1e-2": {"ridge": 1e-2},
    "KL 0.5": {"kl_factor": 0.5},
    "KL 0.5 over every fitted filler and both phrases": {"kl_factor": 0.5, "kl_phrases": 2},
    "40 steps, KL 0.5 over every fitted filler and both phrases": {"steps": 40, "kl_factor": 0.5, "kl_phrases": 2},
    "40 steps, ridge 1e-2, KL 0.5 over every fitted filler and both phrases":
        {"steps": 40, "ridge": 1e-2, "kl_factor": 0.5, "kl_phrases": 2},
}


#: The recipe the ROME variants chose (the library's defaults); MEMIT's values use it too.
ROME_DEFAULT: dict = {"steps": 40, "ridge": 1e-2, "kl_factor": 0.5, "kl_phrases": 2}


def run_rome(model, C, n, only=None, previous=None) -> dict:
    """Every variant (or those in ``only``, keeping the ``previous`` results of the others)."""
    edits = bench_facts(n)
    out = {"edits": edits, "fit_fillers": FIT, "held_out_fillers": HELD, "variants": {}}
    if only and previous and previous.get("edits") == [list(e) for e in edits]:
        out["variants"] = previous["variants"]
    for name, kw in ROME_VARIANTS.items():
        if only and name not in only:
            continue
        out["variants"][name] = res = rome_variant(model, C, edits, **kw)
        print(name, json.dumps({k: v["mean"] for k, v in res["summary"].items()}),
              "worst eff", res["summary"]["efficacy"]["worst"], res["seconds"], "s", flush=True)
    return out


def rome_sequential(model, C, edits, **kw):
    """ROME one fact at a time, each edit on the model the previous ones left."""
    edited = model
    for s, r, new in edits:
        edited = edit_fact(edited, s, r, new, 0, 3, C[0], fillers=FIT, check_known=False, **kw).model
    return edited


MEMIT_VARIANTS = {
    "MLP 0, weight 10": {"layers": (0,), "weight": 10.0},
    "MLPs 0-1, weight 10": {"layers": (0, 1), "weight": 10.0},
}


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - start, 1)


def run_memit(model, C, n, rome_kw, memit_name=None, sizes=(1, 8, 32)) -> dict:
    edits = bench_facts(n)
    out = {"edits": edits, "rome_settings": rome_kw, "variants_at_n": n, "variants": {}, "table": {}}
    models = {}
    for name, kw in MEMIT_VARIANTS.items():
        if memit_name and name != memit_name:
            continue
        edited, sec = _timed(lambda: edit_facts(model, edits, covariances=C, fillers=FIT, **rome_kw, **kw).model)
        models[name] = (edited, sec)
        out["variants"][name] = {"settings": kw, "summary": summary(edit_measures(model, edited, edits, fit_fillers=FIT)),
                                 "seconds": sec}
        print("MEMIT", name, json.dumps({k: v["mean"] for k, v in out["variants"][name]["summary"].items()}), sec, "s",
              flush=True)
    best = memit_name or max(out["variants"], key=lambda k: _score(out["variants"][k]["summary"]))
    out["chosen"] = best
    for size in sizes:
        batch = edits[:size]
        if size == n:  # the variant's run
            memit, t_m = models[best]
        else:
            memit, t_m = _timed(lambda: edit_facts(model, batch, covariances=C, fillers=FIT, **rome_kw,
                                                   **MEMIT_VARIANTS[best]).model)
        rome, t_r = _timed(lambda: rome_sequential(model, C, batch, **rome_kw))
        out["table"][str(size)] = {
            "ROME one at a time": {**summary(edit_measures(model, rome, batch, fit_fillers=FIT)), "seconds": t_r},
            "MEMIT all at once": {**summary(edit_measures(model, memit, batch, fit_fillers=FIT)), "seconds": t_m}}
        print(size, json.dumps({m: {k: v["mean"] for k, v in row.items() if isinstance(v, dict)}
                                for m, row in out["table"][str(size)].items()}), flush=True)
    return out


def _score(summ: dict) -> float:
    """Held-out generalisation times specificity (neighbours and the same subject): what a recipe is chosen by."""
    return summ["held_out"]["mean"] * summ["neighbours"]["mean"] * summ["same_subject"]["mean"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", default="rome", choices=["rome", "memit", "all"])
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--memit", help="one MEMIT variant (skip the choice)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = zoo.load("facts_4l", device="cpu")
    C = zoo.extras("facts_4l", device="cpu")["covariance"]
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    results["command"] = "nice -n 10 python bench/rome_facts.py --part " + args.part
    if args.part in ("rome", "all"):
        results["rome"] = run_rome(model, C, args.n, args.only, results.get("rome"))
    if args.part in ("memit", "all"):
        results["memit"] = run_memit(model, C, args.n, ROME_DEFAULT, args.memit)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    if "memit" in results and "rome" in results:
        write_measured(results)


def write_measured(results: dict) -> None:
    """The numbers lesson 11 shows: ROME's chosen recipe over the bench's facts, and the MEMIT table."""
    memit = results["memit"]
    chosen = next(k for k, v in results["rome"]["variants"].items() if v["settings"] == {"layer": 0, "position": 3,
                                                                                          **ROME_DEFAULT})
    measured = {"source": "bench/rome_facts.py (facts_4l; fitted on fillers 0-3, held out 4-7; "
                          f"{len(results['rome']['edits'])} facts of distinct subjects other than the lesson's)",
                "rome_recipe": {"name": chosen, **results["rome"]["variants"][chosen]["summary"]},
                "rome_lesson_recipe": results["rome"]["variants"][LESSON_RECIPE]["summary"],
                "memit_recipe": {"name": memit["chosen"], **memit["variants"][memit["chosen"]]["settings"]},
                "table": memit["table"]}
    MEASURED.write_text(json.dumps(measured, indent=1) + "\n")


if __name__ == "__main__":
    main()
