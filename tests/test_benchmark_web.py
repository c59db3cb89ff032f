"""utils/benchmark_web.py: its tables, from a short run against the real script."""

import pytest

from scripts import run_script


@pytest.mark.slow
def test_the_benchmark_prints_the_latency_and_cpu_tables(tmp_path):
    result = run_script("utils/benchmark_web.py", "--count", "20", "--seconds", "0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for row in ("| UDP, without --web |", "| WebSocket (/ws/osc), --web |", "| --web, a page watching |"):
        assert row in result.stdout
