"""imps.learn.tfnoise: TensorFlow's known notices are kept off stderr, everything else reaches it."""

import subprocess
import sys

import pytest

from conftest import leaked_noise
from imps.learn.tfnoise import is_noise

# What TensorFlow 2.21 printed on import and first use on a machine with no GPU.
SEEN = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795728099.350913    4085 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. To turn "
    "them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1795728099.351221    4085 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "I0000 00:00:1795728099.403569    4085 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1795728101.965404    4085 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)",
]
REAL = [
    "E0000 00:00:1795728101.965404    4085 op_kernel.cc:1857] OP_REQUIRES failed at conv_ops.cc: INVALID_ARGUMENT",
    "W0000 00:00:1795728101.965404    4085 allocator.cc:107] Allocation of 4000000000 exceeds 10% of free memory.",
    "Traceback (most recent call last):",
    "error: the dataset is too short",
]


def test_the_known_notices_are_noise_and_real_messages_are_not():
    assert all(is_noise(line) for line in SEEN)
    assert not any(is_noise(line) for line in REAL)


CHILD = """
import os, sys
from imps.learn.tfnoise import filter_tensorflow_noise
filter_tensorflow_noise()
lines = sys.argv[1:]
for line in lines:
    os.write(2, (line + "\\n").encode())  # as TensorFlow's C++ core writes
    print(line, file=sys.stderr)  # as Python writes
print("stdout is untouched")
sys.exit(3)
"""


def test_the_filter_drops_noise_written_to_the_descriptor_and_keeps_the_rest_in_order():
    lines = [SEEN[1], REAL[0], SEEN[5], REAL[3]]
    result = subprocess.run([sys.executable, "-c", CHILD, *lines], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stdout == "stdout is untouched\n"
    assert result.stderr.splitlines() == [REAL[0], REAL[0], REAL[3], REAL[3]]


@pytest.mark.slow
def test_importing_tensorflow_through_the_filter_prints_none_of_its_known_notices():
    code = "from imps.learn.tfnoise import filter_tensorflow_noise; filter_tensorflow_noise(); " \
           "import tensorflow as tf; tf.config.list_physical_devices('GPU')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Not an empty stderr: with a GPU, TensorFlow says more (the devices it opened), which
    # is no known noise and is let through.
    assert leaked_noise(result.stderr) == []
