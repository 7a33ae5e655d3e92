"""The object world (mi_tutor.vision.objects): shapes, masks, ground truth, seeds, errors."""

import dataclasses
import hashlib
import math

import pytest
import torch

from mi_tutor.vision.objects import (
    CURVED_PARTS,
    EXTRA_KINDS,
    FACING_KINDS,
    OBJECT_KINDS,
    PARTS,
    STRAIGHT_PARTS,
    ObjectWorldConfig,
    object_names,
    render_objects,
)


@pytest.fixture(scope="module")
def batch():
    return render_objects(96, seed=3)


@pytest.fixture(scope="module")
def count_batch():
    return render_objects(64, seed=4, config=ObjectWorldConfig(task="count"))


def test_shapes_and_ranges(batch):
    n = len(batch)
    assert batch.images.shape == (n, 3, 64, 64) and batch.images.dtype == torch.float32
    assert 0 <= float(batch.images.min()) and float(batch.images.max()) <= 1
    assert batch.labels.shape == (n,) and int(batch.labels.max()) < len(OBJECT_KINDS)
    assert set(batch.part_masks) == set(PARTS)
    assert set(batch.object_masks) == set(OBJECT_KINDS)
    for m in (*batch.part_masks.values(), *batch.object_masks.values(), *batch.colour_masks.values(),
              *batch.texture_masks.values(), batch.blur_mask, batch.distractor_mask):
        assert m.shape == (n, 64, 64) and m.dtype == torch.bool
    assert set(CURVED_PARTS) >= {"wheel", "head", "eye", "rim", "arc"}
    assert set(STRAIGHT_PARTS) >= {"window", "wall", "roof", "rail", "rung", "post", "block", "frame"}


def test_object_masks_match_labels_and_parts(batch):
    """Each scene's object mask is its labelled kind's, and is the union of that kind's parts."""
    for i in range(len(batch)):
        kind = OBJECT_KINDS[int(batch.labels[i])]
        obj = batch.object_masks[kind][i]
        assert obj.sum() > 20, f"scene {i} ({kind}) draws almost nothing"
        for other in OBJECT_KINDS:
            if other != kind:
                assert not batch.object_masks[other][i].any()
        parts = torch.zeros_like(obj)
        for p in batch.scene(i)[0].parts:
            parts |= batch.part_masks[p][i]
        assert torch.equal(parts, obj)
        assert torch.equal(batch.instance[i] == 0, obj)


def test_masks_consistent_with_pixels(batch):
    """Object pixels have the object's colour (outside the blurred region); background pixels do not."""
    from mi_tutor.vision.world import COLOURS

    for i in range(len(batch)):
        obj = batch.instance[i] == 0
        sharp_obj = obj & ~batch.blur_mask[i]
        rgb = torch.tensor(COLOURS[batch.config.colours[int(batch.colour[i, 0])]])
        if sharp_obj.sum() < 10:
            continue
        pix = batch.images[i].permute(1, 2, 0)[sharp_obj]                 # [m, 3]
        close = ((pix - rgb).abs().amax(-1) < 0.35).float().mean()
        assert close > 0.8, f"scene {i}: only {close:.0%} of object pixels have the object's colour"
        assert torch.equal(batch.colour_masks[batch.config.colours[int(batch.colour[i, 0])]][i] & obj, obj)
    back = torch.stack([batch.texture_masks[t] for t in batch.config.textures]).sum(0)
    assert int(back.max()) <= 1
    assert torch.equal(back.bool(), (batch.instance < 0) & ~batch.distractor_mask)


def test_blur_lowers_high_frequencies(batch):
    """Pixels in the out-of-focus region differ less from their neighbours than sharp ones."""
    img = batch.images.mean(1)
    grad = (img[:, :, 1:] - img[:, :, :-1]).abs()
    blur = batch.blur_mask[:, :, 1:] & batch.blur_mask[:, :, :-1]
    sharp = ~batch.blur_mask[:, :, 1:] & ~batch.blur_mask[:, :, :-1]
    noisy = (batch.texture == batch.config.textures.index("noise"))[:, None, None]
    assert bool(batch.blurred.any()) and bool((~batch.blurred).any())
    assert grad[blur & noisy].mean() < 0.5 * grad[sharp & noisy].mean()
    assert not batch.blur_mask[~batch.blurred].any()


def test_pose_is_ground_truth_not_label():
    """Heads face both ways under one label; mirrored parts move with the facing."""
    b = render_objects(64, seed=5, config=ObjectWorldConfig(kinds=("head",)))
    assert bool((b.labels == 0).all())
    assert {int(f) for f in b.facing[:, 0]} == {-1, 1}
    # the eye and snout sit on the side the head faces
    cols = torch.arange(64, dtype=torch.float32)
    for i in range(len(b)):
        head = b.object_masks["head"][i]
        snout = b.part_masks["snout"][i]
        if snout.sum() < 3:
            continue
        dx = (snout.float().sum(0) * cols).sum() / snout.sum() - (head.float().sum(0) * cols).sum() / head.sum()
        if abs(float(b.rotation[i, 0])) < 0.2:
            assert math.copysign(1, float(dx)) == int(b.facing[i, 0]), f"scene {i}: snout on the wrong side"
    assert all(k in FACING_KINDS for k in ("car", "head"))
    assert render_objects(8, seed=1, config=ObjectWorldConfig(kinds=("clock",))).facing.abs().sum() == 0


def test_vehicle_wheels_below_windows_above():
    b = render_objects(48, seed=6, config=ObjectWorldConfig(kinds=("car",)))
    rows = torch.arange(64, dtype=torch.float32)[:, None]
    for i in range(len(b)):
        w, win = b.part_masks["wheel"][i].float(), b.part_masks["window"][i].float()
        if w.sum() < 3 or win.sum() < 3:
            continue
        assert (w * rows).sum() / w.sum() > (win * rows).sum() / win.sum(), f"scene {i}: wheels not below windows"


def test_ground_truth_scene(batch, count_batch):
    objs = batch.scene(0)
    assert len(objs) == 1 and objs[0].kind == OBJECT_KINDS[int(batch.labels[0])]
    assert objs[0].colour in batch.config.colours and -1 <= objs[0].x <= 1
    for i in range(len(count_batch)):
        objs = count_batch.scene(i)
        assert len(objs) == int(count_batch.count[i]) == int(count_batch.labels[i]) + 1
        assert len({(o.x > 0, o.y > 0) for o in objs}) == len(objs)  # one object per quadrant
        drawn = {int(k) for k in count_batch.instance[i].unique() if k >= 0}
        assert drawn == set(range(len(objs)))
    with pytest.raises(IndexError, match="`i`"):
        batch.scene(len(batch))
    assert object_names(count_batch.config) == ["1 object", "2 objects", "3 objects", "4 objects"]


def test_seeds_reproduce():
    a, b, c = render_objects(16, seed=7), render_objects(16, seed=7), render_objects(16, seed=8)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.part_masks["wheel"], b.part_masks["wheel"])
    assert not torch.equal(a.images, c.images)
    # the first scenes do not depend on the batch size's random draws being different tensors
    assert render_objects(4, seed=7).images.shape == (4, 3, 64, 64)


def _digest(b) -> str:
    """sha256 of every tensor of a batch (images, ground truth and every mask), field by field."""
    h = hashlib.sha256()
    for f in dataclasses.fields(b):
        v = getattr(b, f.name)
        for key, t in sorted(v.items()) if isinstance(v, dict) else [(f.name, v)]:
            if isinstance(t, torch.Tensor):
                h.update(key.encode())
                h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


# Computed with render_objects before it was split into stages (layout, background, distractors, objects,
# blur): the split must draw the same scenes, bit for bit. A change that means to change the world
# changes these on purpose.
@pytest.mark.parametrize("seed, config, digest", [
    (0, ObjectWorldConfig(), "e27056c03164ed01"),
    (5, ObjectWorldConfig(task="count"), "cb1d8df70fb4cfc6"),
    (9, ObjectWorldConfig(kinds=OBJECT_KINDS + EXTRA_KINDS, scale=(0.55, 0.85), p_blur=1.0), "e3afb48b7de13b07"),
])
def test_scenes_are_bit_identical_to_the_recorded_ones(seed, config, digest):
    assert _digest(render_objects(16, seed=seed, config=config)) == digest


def test_all_kinds_and_textures_appear():
    b = render_objects(400, seed=9)
    assert set(b.labels.tolist()) == set(range(len(OBJECT_KINDS)))
    assert set(b.texture.tolist()) == set(range(len(b.config.textures)))
    assert b.distractor_mask.any()


def test_other_sizes():
    b = render_objects(4, seed=0, config=ObjectWorldConfig(size=48))
    assert b.images.shape == (4, 3, 48, 48) and b.part_masks["wheel"].shape == (4, 48, 48)


@pytest.mark.parametrize("kwargs, match", [
    ({"kinds": ("car", "bus")}, "config.kinds"),
    ({"size": 16}, "config.size"),
    ({"size": 64.0}, "config.size"),
    ({"task": "segment"}, "config.task"),
    ({"colours": ("mauve",)}, "config.colours"),
    ({"textures": ("wood",)}, "config.textures"),
    ({"max_objects": 6, "task": "count"}, "config.max_objects"),
    ({"p_blur": 1.5}, "config.p_blur"),
    ({"scale": (0.5, 0.3)}, "config.scale"),
    ({"kinds": ()}, "config.kinds"),
])
def test_bad_config_names_the_argument(kwargs, match):
    with pytest.raises((ValueError, KeyError), match=match):
        render_objects(2, config=ObjectWorldConfig(**kwargs))


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_bad_n(n):
    with pytest.raises(ValueError, match="`n`"):
        render_objects(n)


def test_unknown_part_kind():
    from mi_tutor.vision.objects import render_parts

    with pytest.raises(KeyError, match="`kind`"):
        render_parts("bus", torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), torch.ones(1), torch.ones(1), 0.1)


# ------------------------------------------------------------------ extra kinds (the arrangement world)
def test_extra_kinds_leave_the_default_world_alone():
    from mi_tutor.vision.objects import ALL_KINDS, EXTRA_KINDS, PARTS

    assert len(OBJECT_KINDS) == 9 and ObjectWorldConfig().kinds == OBJECT_KINDS
    assert ALL_KINDS == OBJECT_KINDS + EXTRA_KINDS and {"wreck", "swap"} <= set(EXTRA_KINDS)
    assert "wreck" not in PARTS and "swap" not in PARTS
    # the default scenes are the ones the shipped nets saw: same labels as a world built from the nine kinds
    a, b = render_objects(16, seed=5), render_objects(16, seed=5, config=ObjectWorldConfig(kinds=OBJECT_KINDS))
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)


@pytest.mark.parametrize("kind, wheels_above", [("car", False), ("wreck", True), ("swap", True)])
def test_extra_kinds_rearrange_the_cars_parts(kind, wheels_above):
    """wreck (upside down) and swap (wheels and windows swapped) draw the car's parts, wheels above the windows."""
    b = render_objects(32, seed=2, config=ObjectWorldConfig(kinds=(kind,), scale=(0.55, 0.85)))
    rows = torch.arange(64, dtype=torch.float32)[None, :, None]

    def mean_row(mask):
        return float((mask * rows).sum() / mask.sum())

    wheel, window = b.part_masks["wheel"].float(), b.part_masks["window"].float()
    assert wheel.sum() > 0 and window.sum() > 0 and b.part_masks["body"].any()
    assert (mean_row(wheel) < mean_row(window)) == wheels_above  # row 0 is the top
    assert set(b.scene(0)[0].parts) == {"body", "window", "wheel", "hub"}
    assert bool((b.facing != 0).all())


def test_bad_extra_kind_names_the_argument():
    with pytest.raises(KeyError, match="config.kinds.*wreck"):
        render_objects(2, config=ObjectWorldConfig(kinds=("car", "wrek")))
