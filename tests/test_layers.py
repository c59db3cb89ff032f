"""The rooms stack, checked by importing in a fresh interpreter: imps.core imports
neither imps.perform nor imps.learn; imps.perform, the server script's --help
and choosing the model to play import neither imps.learn nor imps.web nor TensorFlow
nor Keras; imps.web, on top, imports no TensorFlow or Keras; the
server's settings and collating logs load neither h5py nor the engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

# Prints, as JSON, which of the watched modules the code before it imported.
WATCH = """
import json, sys
watched = ("imps.core", "imps.perform", "imps.learn", "imps.web", "tensorflow", "keras", "keras_mdn_layer", "h5py")
print(json.dumps(sorted({w for w in watched for name in sys.modules if name == w or name.startswith(w + ".")})))
"""

EVERY_MODULE_OF = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
"""


def imported_by(code: str, *args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code + WATCH, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("room, allowed", [
    ("imps.core", ["h5py", "imps.core"]),
    ("imps.perform", ["h5py", "imps.core", "imps.perform"]),
    # The web page sits on top and may use learn's light modules, but never TensorFlow or Keras.
    ("imps.web", ["h5py", "imps.core", "imps.learn", "imps.perform", "imps.web"]),
])
def test_a_room_imports_only_the_rooms_below_it(room, allowed):
    assert imported_by(EVERY_MODULE_OF, room) == allowed


@pytest.mark.slow
def test_learn_may_import_everything_below_it():
    assert {"imps.core", "imps.perform", "imps.learn", "tensorflow"} <= set(imported_by(EVERY_MODULE_OF, "imps.learn"))


def test_the_server_scripts_help_and_its_model_choice_import_no_tensorflow():
    code = """
import runpy, sys
sys.argv = ["predictive_music_model.py", "--help"]
try:
    runpy.run_path("predictive_music_model.py", run_name="__main__")
except SystemExit as exit:
    assert exit.code == 0, exit.code
from imps.perform.config import ServerConfig
from imps.perform.model_choice import model_to_play
model_to_play(ServerConfig(dimension=9)).predictor.predict([0.1] + [0.5] * 8)
"""
    assert imported_by(code) == ["h5py", "imps.core", "imps.perform"]


@pytest.mark.parametrize("module, imported", [
    ("imps.perform.config", ["imps.core", "imps.perform"]),  # the server's settings: no weights, no engine
    ("imps.learn.dataset", ["imps.core", "imps.learn"]),  # collating logs: no engine, no TensorFlow
])
def test_settings_and_collating_logs_load_no_weights_reader_or_engine(module, imported):
    assert imported_by(f"import {module}\n") == imported
