"""Imported first by the scripts that step a model, before numpy loads: one BLAS thread.
A step's matrices are small, and a second thread only adds waiting for it, badly so
when another program has the other core. A thread count already set is kept."""

import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
