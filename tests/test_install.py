"""IMPS installed as a package, not run from its clone: a wheel built by pip (not
editable) carries the default models, and the server script, copied to another folder,
plays the installed default model."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT
from harness import ServerProcess, free_udp_port, message

pytestmark = pytest.mark.slow


def pip(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


def test_a_non_editable_install_plays_the_default_model_from_another_folder(tmp_path):
    pip("wheel", "--no-deps", "--wheel-dir", str(tmp_path / "wheels"), str(ROOT))
    (wheel,) = (tmp_path / "wheels").glob("imps-*.whl")
    shipped = sorted(os.path.basename(name) for name in zipfile.ZipFile(wheel).namelist()
                     if name.startswith("imps/core/default_models/"))
    assert shipped == sorted(path.name for path in (ROOT / "imps" / "core" / "default_models").iterdir())
    site = tmp_path / "site"
    pip("install", "--no-deps", "--target", str(site), str(wheel))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = shutil.copy(ROOT / "predictive_music_model.py", elsewhere)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as synth:
        synth.bind(("127.0.0.1", 0))
        synth.settimeout(10)
        port = free_udp_port()
        # The installed package comes first on the path, before this clone's editable one.
        server = ServerProcess("-d", "9", "--polyphony", "--serverip", "127.0.0.1", "--serverport", str(port),
                               "--clientip", "127.0.0.1", "--clientport", str(synth.getsockname()[1]),
                               cwd=elsewhere, script=script, env={"PYTHONPATH": str(site)})
        try:
            assert server.wait_ready(), server.output
            assert f"playing the default model {site}/imps/core/default_models/musicMDRNN-dim9-" in server.output
            synth.sendto(message("/interface", *[("f", 0.5)] * 8), ("127.0.0.1", port))
            assert synth.recv(65536).startswith(b"/prediction\x00")
        finally:
            assert server.stop() == 0, server.output
