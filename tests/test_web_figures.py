"""--web off|closed|open in utils/benchmark_performance.py and utils/reliability.py: the
server as a process with its web page on, and with a page watching (harness.web.Page)."""

import re
import time

import numpy as np
import pytest

import harness
from conftest import utils_script
from harness.web import Page
from scripts import run_script


def test_off_adds_no_flag_and_closed_and_open_a_free_port_of_this_machine():
    assert Page().flags == () and Page("off").port is None
    closed, opened = Page("closed"), Page("open")
    assert closed.flags == ("--web", f"127.0.0.1:{closed.port}") and opened.flags[0] == "--web"
    closed.open()  # no page for "closed"
    assert closed.watcher is None and closed.close() == 0
    with pytest.raises(ValueError):
        Page("ajar")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["closed", "open"])
def test_reliability_stages_serve_the_page_and_an_open_one_is_watched(tmp_path, monkeypatch, mode):
    reliability = utils_script("reliability")
    monkeypatch.setattr(reliability, "WEB", mode)
    stage = reliability.Stage(tmp_path, "--polyphony")
    try:
        harness.paced(stage.send, [harness.valid_interface(np.random.default_rng(i), 8).data for i in range(100)], 200)
        stage.wait_for_lines(100)
    finally:
        code, _ = stage.stop_timed()
    assert code == 0
    assert "--web" in stage.process.args
    assert f"web page: http://127.0.0.1:{stage.page.port}/" in stage.output
    if mode == "open":
        assert stage.page.received > 0  # events and the state, twice a second
    else:
        assert stage.page.watcher is None and stage.page.received == 0


@pytest.mark.slow
def test_benchmark_servers_serve_the_page_and_an_open_one_is_watched(monkeypatch):
    benchmark = utils_script("benchmark_performance")
    monkeypatch.setattr(benchmark, "WEB", "open")
    server, seconds, _ = benchmark.start_server("--polyphony")
    deadline = time.monotonic() + 5
    while server.page.watcher.received == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # the state comes twice a second
    output = benchmark.stop_server(server)
    assert seconds > 0 and f"web page: http://127.0.0.1:{server.page.port}/" in output
    assert server.page.received > 0


@pytest.mark.slow
def test_reliability_says_what_the_open_pages_received(tmp_path):
    result = run_script("utils/reliability.py", "stop", "--web", "open", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = re.search(r"Web page open: 2 server\(s\) run with --web .*received ([\d,]+) messages", result.stdout)
    assert found and int(found.group(1).replace(",", "")) > 0, result.stdout
