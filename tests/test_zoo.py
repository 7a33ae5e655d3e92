"""The zoo's one door to a model's files: snapshots, extras, measured records (fast: no training)."""

import re
from pathlib import Path

import pytest
import torch

from mi_tutor import zoo
from mi_tutor.zoo import registry

ROOT = Path(__file__).resolve().parents[1]


def test_snapshots_and_extras_name_the_models_that_ship_them():
    with pytest.raises(KeyError, match="'facts_4l' ships no snapshots. These do: .*attn_only_2l.*grokking_p53"):
        zoo.snapshots("facts_4l", device="cpu")
    with pytest.raises(KeyError, match="'attn_only_2l' ships no extras. These do: facts_4l"):
        zoo.extras("attn_only_2l", device="cpu")
    with pytest.raises(KeyError, match="Did you mean 'attn_only_2l'"):
        zoo.snapshots("attn_only_2", device="cpu")


def test_snapshots_of_each_family_have_one_shape():
    for name, curve in (("attn_only_2l", "loss"), ("grokking_p53_wd0", "test_acc"), ("plainnet_short_s1", "accuracy")):
        run = zoo.snapshots(name, device="cpu")
        assert isinstance(run, zoo.Snapshots) and run.name == name
        assert len(run.models) == len(run.steps) and run.steps[0] == 0 and run.steps == sorted(run.steps)
        assert curve in run.curves and not any(m.training for m in run.models)
        assert all(p.dtype == torch.float32 for p in run.models[-1].parameters())
    assert zoo.snapshots("grokking_p53_wd0", device="cpu").recipe["p"] == 53


def test_missing_file_says_how_to_rebuild(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="mi-tutor zoo train attn_only_2l"):
        zoo.snapshots("attn_only_2l", device="cpu")


def test_build_is_the_untrained_architecture():
    fresh, shipped = zoo.build("attn_only_1l"), zoo.load("attn_only_1l", device="cpu")
    assert type(fresh) is type(shipped) and fresh.state_dict().keys() == shipped.state_dict().keys()
    assert not torch.equal(fresh.W_E, shipped.W_E)


def test_measured_records_reach_the_entries_info():
    record = registry.measured("objects")
    for name, numbers in record["models"].items():
        info = zoo.info(name)
        assert all(info[k] == v for k, v in numbers.items()), name
        assert info["what_failed"] == record["what_failed"]
    assert zoo.info("plainnet_short_s0")["snapshot_accuracy"][400] == 0.881   # int steps, as recorded
    with pytest.raises(KeyError, match="Did you mean 'objects'"):
        registry.measured("object")


def test_lessons_use_the_zoos_face_not_its_entries():
    """Lessons import ``mi_tutor.zoo`` (load, info, build, snapshots, extras), never the registration modules."""
    pattern = re.compile(r"^\s*(from|import) mi_tutor\.zoo\.(entries|registry)\b", re.M)
    offenders = [p.name for p in sorted((ROOT / "solutions").glob("*.py")) if pattern.search(p.read_text())]
    assert not offenders, f"lessons importing zoo internals: {offenders}"
