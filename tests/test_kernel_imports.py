"""What a lesson kernel imports: torchvision and scipy only where a lesson uses them.

Importing torchvision costs about 3 s of CPU, scipy.stats about 1 s: every lesson kernel and every graded
submission would pay it.
"""

import subprocess
import sys

import pytest

# every lesson's imports, and a zoo CNN built and run: none of them needs torchvision
KERNEL = """
import sys, importlib, torch
for n in range(1, 13):
    importlib.import_module(f"mi_tutor.checks.lesson{n:02d}")
from mi_tutor import zoo
zoo.available()
from mi_tutor.vision.objects import render_objects
zoo.load("resnet_objects_s0")(render_objects(2, seed=0).images)
print(sorted(m for m in sys.modules if m.split(".")[0] == "torchvision" or m in ("scipy.stats", "scipy.optimize")))
"""


def test_lesson_kernels_do_not_import_torchvision_or_scipy_stats():
    out = subprocess.run([sys.executable, "-c", KERNEL], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out


@pytest.mark.parametrize("what", ["pretrained", "rotate"])
def test_torchvision_is_imported_where_it_is_used(what):
    code = {"pretrained": "from mi_tutor.vision.pretrained import PRETRAINED; PRETRAINED['resnet18'].build()",
            "rotate": "import torch; from mi_tutor.featvis.transforms import random_rotate; "
                      "random_rotate([10.0])(torch.zeros(1, 3, 8, 8), torch.Generator())"}[what]
    out = subprocess.run([sys.executable, "-c", code + "; import sys; print('torchvision' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
