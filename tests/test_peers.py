"""The tests that drive third-party programs (conftest.PEERS) skip on a machine without
them, naming the Debian package to install, and fail instead under IMPS_REQUIRE_PEERS=1,
as in CI. Shown by running every such test with the programs hidden from PATH; and the
MIDI tests, with the MIDI libraries hidden from Python, name those instead."""

import re
import subprocess
import sys

import pytest

from conftest import PEERS, REQUIRE_PEERS, ROOT, script_env

pytestmark = pytest.mark.slow  # each test runs pytest again, over the peer tests


def run_peer_tests(tmp_path, **extra_env) -> subprocess.CompletedProcess:
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    env = {**script_env(), "PATH": str(empty), **extra_env}
    if not extra_env:
        env.pop(REQUIRE_PEERS, None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "peers", str(ROOT / "tests")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def counts(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", last)}


def test_without_the_programs_every_peer_test_skips_and_names_its_package(tmp_path):
    result = run_peer_tests(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    found = counts(result.stdout)
    assert found.get("skipped", 0) >= 9 and "passed" not in found and "failed" not in found, result.stdout
    reasons = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert reasons, result.stdout
    for line in reasons:
        assert re.search(r"needs (\w+(, )?)+ on PATH, from the Debian package", line), line
        assert any(f"apt-get install {package}" in line for package in set(PEERS.values())), line
    assert any("puredata-core" in line for line in reasons) and any("liblo-tools" in line for line in reasons)


def test_when_peers_are_required_a_missing_program_fails_instead(tmp_path):
    result = run_peer_tests(tmp_path, **{REQUIRE_PEERS: "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    found = counts(result.stdout)
    assert found.get("errors", found.get("error", 0)) >= 9 and "skipped" not in found and "passed" not in found, \
        result.stdout
    assert f"{REQUIRE_PEERS}=1 makes this a failure" in result.stdout


def run_midi_test_without_the_midi_libraries(tmp_path, **extra_env) -> subprocess.CompletedProcess:
    hidden = tmp_path / "no-midi"
    hidden.mkdir(exist_ok=True)
    for name in ("mido", "rtmidi"):
        (hidden / f"{name}.py").write_text(f"raise ImportError('No module named {name}')\n")
    env = {**script_env(), "PYTHONPATH": str(hidden), **extra_env}
    if not extra_env:
        env.pop(REQUIRE_PEERS, None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "", str(ROOT / "tests" / "test_midi.py"),
                           "-k", "listed_by_name"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.peers("jackd", "jack_wait")  # without them the MIDI tests skip for want of jackd, as above
def test_without_the_midi_libraries_the_midi_tests_skip_naming_them_or_fail_when_required(tmp_path):
    result = run_midi_test_without_the_midi_libraries(tmp_path)
    assert result.returncode == 0 and counts(result.stdout).get("skipped") == 1, result.stdout
    assert "passed" not in counts(result.stdout), result.stdout
    assert "mido and python-rtmidi (pip install -r requirements.txt)" in result.stdout and "libasound2" in result.stdout
    result = run_midi_test_without_the_midi_libraries(tmp_path, **{REQUIRE_PEERS: "1"})
    assert result.returncode == 1 and f"{REQUIRE_PEERS}=1 makes this a failure" in result.stdout, result.stdout
