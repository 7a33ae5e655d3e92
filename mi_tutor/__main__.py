"""``python -m mi_tutor ...`` is the ``mi-tutor`` command (for when scripts are not on PATH)."""

import sys

from .course.cli import main

sys.exit(main())
