"""Imported first by the utils/ scripts: one BLAS thread, as the performance server
runs (imps.core.blas), and the test harness in tests/harness importable here as the
tests import it."""

import sys
from pathlib import Path

import imps.core.blas  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
