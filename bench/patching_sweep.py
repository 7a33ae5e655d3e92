"""Benchmark: lesson 9's patching sweeps, batched (``patch_sweep``) against one forward pass per patch.

The headline is the lesson's own library sweep: ``patching.patch_residual(model, batch.tokens,
flipped.tokens, ld_metric, component="attn_out")`` on ``ioi_2l1h`` (2 layers x 15 positions = 30
patches of 48 flipped IOI prompts, template 0, order BAB), with the lesson's metric (its
``logit_diff`` and ``normalized_metric`` solutions). Beside it, two other sweeps the lesson runs:
the (layer x head x position) ``hook_z`` sweep of ``ioi_2l2h`` (60 patches; the checks of
exercise 9.5 run it through ``patch_heads(per_position=True)``) and the 64 channels of the vision
CNN (section 9; a plain ``nn.Module``, so no pass can be shortened). Each sweep is timed batched
and naive (``patch_naive_loop``) alternately, best of 3, torch at 1 thread, as process CPU time
(robust to a shared machine) and wall time; the numbers of both must agree. Results go to
``bench/results/patching_sweep.json`` with the machine and its load.

    nice python bench/patching_sweep.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from mi_tutor import patching as P
from mi_tutor import zoo
from mi_tutor.patching import batching
from mi_tutor.tasks import ioi_batch
from run_lessons import cpu_model  # bench/ is on the path of a script run from it
from mi_tutor.vision.world import render_shapes

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "patching_sweep.json"
REPEATS = 3


def lesson_logit_diff(logits, io, s):
    """Exercise 9.1's solution."""
    last = logits[:, -1]
    rows = torch.arange(last.shape[0], device=last.device)
    return last[rows, io] - last[rows, s]


def lesson_metric(model, batch, flipped):
    """The lesson's ``ld_metric``: the normalised logit difference (exercise 9.2's solution)."""
    with torch.no_grad():
        clean = lesson_logit_diff(model(batch.tokens), batch.io, batch.s).mean().item()
        corrupt = lesson_logit_diff(model(flipped.tokens), batch.io, batch.s).mean().item()
    return lambda logits: (lesson_logit_diff(logits, batch.io, batch.s).mean() - corrupt) / (clean - corrupt)


def count_passes(fn):
    """``fn()`` and the number of forward passes ``patch_sweep`` ran (its patched passes + its cache run)."""
    n = [0]
    real = P.activation.run_chunk

    def counted(*args):
        n[0] += 1
        return real(*args)

    P.activation.run_chunk = counted
    try:
        out = fn()
    finally:
        P.activation.run_chunk = real
    return out, n[0] + 1


def breakdown(model, target, source, metric, sites):
    """Where the batched sweep's CPU time goes (ms, the quickest of REPEATS runs): its phases, the metric, the rest."""
    import collections

    acc, real = collections.Counter(), {}

    def timed(key, fn):
        def run(*args, **kw):
            t = time.process_time()
            out = fn(*args, **kw)
            acc[key] += time.process_time() - t
            return out
        return run

    phases = {"run_caches": "cache run (source and target stacked)", "site_mask": "site masks",
              "plan_chunks": "planning", "run_chunk": "patched passes"}
    for fn in phases:
        real[fn] = getattr(P.activation, fn)
        setattr(P.activation, fn, timed(phases[fn], real[fn]))
    runs = []
    try:
        for _ in range(REPEATS):
            acc.clear()
            t = time.process_time()
            P.patch_sweep(model, target, source, timed("the metric, once per patch", metric), sites, progress=False)
            runs.append((time.process_time() - t, dict(acc)))
    finally:
        for fn, f in real.items():
            setattr(P.activation, fn, f)
    total, parts = min(runs, key=lambda r: r[0])
    parts["the rest (checks, entry points, results)"] = total - sum(parts.values())
    return {"total": round(total * 1000, 1), **{k: round(v * 1000, 1) for k, v in parts.items()}}


def side_by_side(name, model, target, source, metric, sites, setup):
    """Batched and naive, alternately, best of REPEATS; CPU and wall seconds."""
    batched = lambda: P.patch_sweep(model, target, source, metric, sites, progress=False)  # noqa: E731
    naive = lambda: P.patch_naive_loop(model, target, source, metric, sites)  # noqa: E731
    best = {k: [float("inf"), float("inf")] for k in ("batched", "naive")}
    outs = {}
    for _ in range(REPEATS):
        for key, fn in (("batched", batched), ("naive", naive)):
            cpu, wall = time.process_time(), time.perf_counter()
            outs[key] = fn()
            best[key] = [min(best[key][0], time.process_time() - cpu), min(best[key][1], time.perf_counter() - wall)]
    diff = float((outs["batched"] - outs["naive"]).abs().max())
    assert diff < 1e-5, f"{name}: batched and naive sweeps disagree by {diff}"
    _, passes = count_passes(batched)
    return {
        "sweep": name, **setup, "patches": len(sites),
        "forward_passes": {"batched": passes, "naive": len(sites) + 1},
        "cpu_seconds": {k: round(v[0], 4) for k, v in best.items()},
        "wall_seconds": {k: round(v[1], 4) for k, v in best.items()},
        "speedup_cpu": round(best["naive"][0] / best["batched"][0], 2),
        "speedup_wall": round(best["naive"][1] / best["batched"][1], 2),
        "max_abs_difference": diff,
    }


def lesson_attn_out_sweep():
    model = zoo.load("ioi_2l1h", device="cpu")
    batch = ioi_batch(48, seed=0, template=0, order="BAB")
    flipped = batch.corrupt("flip")
    sites = [P.Site(h, positions=[p]) for h in P.core.layer_hooks(model, "attn_out") for p in range(batch.tokens.shape[1])]
    metric = lesson_metric(model, batch, flipped)
    row = side_by_side("lesson 9 section 4: patch_residual(component='attn_out')", model, flipped.tokens, batch.tokens,
                       metric, sites, {"model": "ioi_2l1h", "prompts": 48, "hook": "attn_out per (layer, position)"})
    row["batched_cpu_ms_by_phase"] = breakdown(model, flipped.tokens, batch.tokens, metric, sites)
    row["goal_reached"] = row["speedup_cpu"] >= 5
    return row


def head_position_sweep():
    model = zoo.load("ioi_2l2h", device="cpu")
    batch = ioi_batch(48, seed=0, template=0, order="BAB")
    flipped = batch.corrupt("flip")
    n_pos = batch.tokens.shape[1]
    sites = [P.Site(f"blocks.{L}.attn.hook_z", [p], [h]) for L in range(2) for h in range(2) for p in range(n_pos)]
    return side_by_side("lesson 9 section 5: patch_heads(per_position=True)", model, flipped.tokens, batch.tokens,
                        lesson_metric(model, batch, flipped), sites, {"model": "ioi_2l2h", "prompts": 48,
                        "hook": "hook_z per (layer, head, position)"})


def cnn_channel_sweep():
    cnn = zoo.load("convnet_shapes_s0", device="cpu")
    world = render_shapes(256, seed=5)
    disk, square = world.images[world.labels == 0][:16], world.images[world.labels == 1][:16]
    n = min(len(disk), len(square))
    disk, square = disk[:n], square[:n]
    correct, wrong = torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)
    with torch.no_grad():
        clean, corrupt = P.logit_diff(cnn(disk), correct, wrong).item(), P.logit_diff(cnn(square), correct, wrong).item()
    metric = lambda out: P.normalized_metric(P.logit_diff(out, correct, wrong), clean, corrupt)  # noqa: E731
    sites = [P.Site("layer3", heads=[c]) for c in range(64)]
    return side_by_side("lesson 9 section 9: CNN channels of layer3", cnn, square, disk, metric, sites,
                        {"model": "convnet_shapes_s0", "prompts": n, "hook": "layer3 per channel (no pass can be shortened)"})


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()[0]
    rows = [lesson_attn_out_sweep(), head_position_sweep(), cnn_channel_sweep()]
    result = {
        "machine": {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu_count": os.cpu_count(),
                    "platform": platform.platform(), "cpu": cpu_model(), "torch": torch.__version__, "threads": 1,
                    "load_average_1min_before": round(load_before, 2),
                    "load_average_1min_after": round(os.getloadavg()[0], 2)},
        "timing": f"best of {REPEATS}, batched and naive alternately; process CPU seconds (the speedup quoted) and wall",
        "method": ("patch_sweep packs up to batch_patches patches into one pass on the repeated target; on the course's "
                   "transformer a pass enters at its lowest patched block and earliest patched position from the "
                   "target's cached residual stream, keys and values, a residual-stream term (mlp_out, resid_post; "
                   "attn_out and a head's hook_z or hook_result of an attention-only model) enters one block later, and a pass of last-block terms "
                   "unembeds only the patched rows (mi_tutor.patching.batching); a site whose source activation "
                   "equals the target's bit for bit runs no pass; "
                   f"planner's cost per pass {batching.FORWARD_COST:g} prompt x block x positions"),
        "goal": ">= 5x on the lesson's sweep (issue 24)",
        "results": rows,
        "notes": [
            "The lesson's sweep: the naive loop runs 31 full passes of 48 prompts (its source cache and one per "
            "patch). The flip corruption changes one token (position 10, S2's name in template 0), so 20 of the 30 "
            "sites (both layers, positions 0-9) hold bit-for-bit the target's own activation: patch_sweep finds "
            "them in the cache and runs no pass for them (their value is the unpatched target's metric, as the "
            "naive loop computes it). The other 10 take 2 passes after the cache pass: the 5 layer-0 patches enter "
            "block 1 at position 10, the 5 layer-1 patches unembed only their patched rows. The numbers agree "
            "to ~1e-7.",
            "Before the skip and the planner's cheaper unembedding passes (2026-12-08, same machine, quiet) the "
            "lesson's sweep measured 2.39x with 5 patched passes; the hook_z sweep 1.47x.",
            "Where the batched time goes (batched_cpu_ms_by_phase): the cache pass over 96 prompts is about a "
            "third, the patched passes another third; the metric, masks and checks the rest.",
            "In the hook_z sweep 40 of the 60 sites are skipped as above; a head's hook_z (or hook_result) of an "
            "attention-only model is a residual-stream term through W_O, so its patches enter one block later, "
            "like attn_out (before that, 2026-12-08: 5.19x). The CNN "
            "sweep (any nn.Module) only shares passes, and nothing in it is skipped (the two images differ "
            "everywhere); at 1 thread a 32x larger conv batch is slower per image than separate passes (0.55x "
            "the naive loop in passes of 32 patches, measured 2026-12-08), so on the CPU such a model's passes "
            "hold at most patching.CPU_ROWS_PER_PASS = 32 inputs (2 patches of 16 images): about 1.0x.",
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
