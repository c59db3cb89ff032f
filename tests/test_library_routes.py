"""The library's routes through real HTTP: the web server on a thread, behind the core's
Guard, asked as a browser (or another site's page) would ask."""

import errno
import http.client
import json
import os
import pickle
import shutil
import time
import urllib.request
from pathlib import Path
from urllib.error import HTTPError

import numpy as np
import pytest

from harness import free_udp_port
from harness.web import script_with_web
from imps.core.weights import DEFAULT_MODELS_DIR, load_weights
from imps.learn.dataset import Dataset, save_dataset
from imps.perform.config import ServerConfig
from imps.perform.model_choice import model_to_play
from imps.perform.server import PerformanceServer
from imps.web.address import bind
from imps.web.library import MAX_UPLOAD_BYTES
from imps.web.library_routes import library_routes
from imps.web.runner import WebServer
from imps.web.security import COOKIE, Access

TOKEN = "library-test-token"
DEFAULT_3D = DEFAULT_MODELS_DIR / "musicMDRNN-dim3-layers2-units32-mixtures5-scale10.weights.h5"
LOG_3D = "2026-01-01T10-00-00-3d-mdrnn.log"
GETS = ["/library/", "/api/library", f"/api/library/file/logs/{LOG_3D}", f"/api/library/lanes/{LOG_3D}",
        "/api/library/train"]
POSTS = [f"/api/library/delete/logs/{LOG_3D}", "/api/library/collate", "/api/library/upload", "/api/library/train",
         "/api/library/train/stop", f"/api/library/play/{DEFAULT_3D.name}"]
# As a client may send them: a name with ../ in it, spelled out or escaped, and an absolute path.
TRAVERSALS = ["..%2F..%2Fsecret.log", "%2E%2E/%2E%2E/secret.log", "..%2Fsecret.log", "%2Fetc%2Fpasswd",
              "logs%2F..%2F..%2Fsecret.log", "outside.log"]


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / LOG_3D).write_text("".join(f"2026-01-01T10:00:{i / 10:09.6f},interface,{i / 40},0.5\n"
                                                for i in range(40)))
    (root / "models").mkdir()
    shutil.copy(DEFAULT_3D, root / "models" / DEFAULT_3D.name)
    (tmp_path / "secret.log").write_text("2026-01-01T10:00:00,interface,0.5,0.5\n")
    os.symlink(tmp_path / "secret.log", root / "logs" / "outside.log")
    return root


@pytest.fixture
def web(project):
    access = Access(TOKEN, "csrf-for-the-test")
    server = WebServer(bind("127.0.0.1", 0), None, routes=library_routes(project), access=access)
    server.start()
    yield server
    server.stop()


def ask(web: WebServer, method: str, path: str, body: bytes | None = None, token: bool = True, csrf: bool = True,
        origin: str | None = None) -> tuple[int, bytes]:
    host, port = web.address
    headers = {}
    if token:
        headers["Cookie"] = f"{COOKIE}={TOKEN}"
    if csrf and method == "POST":
        headers["X-CSRF-Token"] = web.access.csrf
    if origin is not None:
        headers["Origin"] = origin
    request = urllib.request.Request(f"http://{host}:{port}{path}", data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


def one_line_error(body: bytes) -> str:
    error = json.loads(body)["error"]
    assert "\n" not in error and "Traceback" not in error
    return error


@pytest.mark.parametrize("method, path", [("GET", p) for p in GETS] + [("POST", p) for p in POSTS])
def test_every_route_needs_the_token(web, project, method, path):
    status, body = ask(web, method, path, b"{}" if method == "POST" else None, token=False)
    assert (status, body) == (401, b"a token is needed: open the URL IMPS printed\n")
    assert (project / "logs" / LOG_3D).is_file()


@pytest.mark.parametrize("path", POSTS)
def test_every_change_needs_the_csrf_token_and_the_pages_own_origin(web, project, path):
    assert ask(web, "POST", path, b"{}", csrf=False) == (403, b"the CSRF token is missing or wrong\n")
    host, port = web.address
    assert ask(web, "POST", path, b"{}", origin="http://evil.example") == \
        (403, b"a page from another site may not do this\n")
    assert ask(web, "POST", path, b"{}", origin=f"http://{host}:{port}")[0] != 403  # its own page may
    if path.startswith("/api/library/delete"):
        assert not (project / "logs" / LOG_3D).exists()  # the last ask, from its own page, deleted it


@pytest.mark.parametrize("name", TRAVERSALS)
@pytest.mark.parametrize("route", ["GET /api/library/file/logs/", "GET /api/library/lanes/", "POST /api/library/play/",
                                   "POST /api/library/delete/logs/", "GET /api/library/file/pictures/"])
def test_no_name_out_of_the_listing_reaches_a_file(web, project, tmp_path, route, name):
    method, prefix = route.split()
    status, body = ask(web, method, prefix + name, b"" if method == "POST" else None)
    assert status == 404 and one_line_error(body).startswith("there is no "), body
    assert (tmp_path / "secret.log").is_file() and (project / "logs" / "outside.log").is_symlink()


def test_collate_and_train_refuse_names_out_of_the_listing(web, project):
    status, body = ask(web, "POST", "/api/library/collate", json.dumps({"logs": ["../secret.log"]}).encode())
    assert status == 404 and one_line_error(body) == "there is no log called '../secret.log' in logs/"
    status, body = ask(web, "POST", "/api/library/train", json.dumps({"dataset": "/etc/passwd", "dimension": 3})
                       .encode())
    assert status == 404 and one_line_error(body) == "there is no dataset called '/etc/passwd' in datasets/"
    assert not (project / "datasets").exists()


def test_listing_download_lanes_collate_and_delete(web, project):
    status, body = ask(web, "GET", "/api/library")
    listing = json.loads(body)
    assert status == 200 and [log["name"] for log in listing["logs"]] == [LOG_3D]
    assert listing["models"][0]["dimension"] == 3 and listing["datasets"] == []
    assert ask(web, "GET", f"/api/library/file/logs/{LOG_3D}") == (200, (project / "logs" / LOG_3D).read_bytes())
    status, png = ask(web, "GET", f"/api/library/lanes/{LOG_3D}")
    assert status == 200 and png.startswith(b"\x89PNG")
    status, body = ask(web, "POST", "/api/library/collate", json.dumps({"logs": [LOG_3D]}).encode())
    assert status == 200 and json.loads(body)["dataset"] == "training-dataset-3d.npz"
    assert ask(web, "POST", "/api/library/delete/datasets/training-dataset-3d.npz", b"") == \
        (200, b'{"deleted":"training-dataset-3d.npz"}')
    status, body = ask(web, "POST", f"/api/library/play/{DEFAULT_3D.name}", b"")  # nothing plays in this process
    assert status == 200 and json.loads(body) == {
        "playing": False, "said": "this process plays nothing: start IMPS with the command below",
        "command": f"python predictive_music_model.py --dimension=3 --modelfile=models/{DEFAULT_3D.name}"}


def test_an_upload_is_kept_under_imps_own_name(web, project):
    (project / "models" / DEFAULT_3D.name).unlink()
    assert ask(web, "POST", "/api/library/upload", DEFAULT_3D.read_bytes()) == \
        (200, json.dumps({"kept": DEFAULT_3D.name}, separators=(",", ":")).encode())
    assert load_weights(project / "models" / DEFAULT_3D.name).dimension == 3


def send_upload(web: WebServer, length: int | None, chunks: list[bytes]) -> tuple[int, bytes]:
    """An upload that declares `length` (None: none, sent in chunks) and sends `chunks`:
    a body the server refuses on its declared length need not be sent at all."""
    connection = http.client.HTTPConnection(*web.address, timeout=60)
    connection.putrequest("POST", "/api/library/upload")
    connection.putheader("Cookie", f"{COOKIE}={TOKEN}")
    connection.putheader("X-CSRF-Token", web.access.csrf)
    connection.putheader(*(("Content-Length", str(length)) if length is not None else ("Transfer-Encoding", "chunked")))
    connection.endheaders()
    for chunk in chunks:
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    if chunks:
        connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


def test_an_oversized_upload_is_refused(web, project):
    status, body = send_upload(web, MAX_UPLOAD_BYTES + 1, [])
    assert status == 413 and one_line_error(body) == \
        "the upload is 52,428,801 bytes; weights files may be at most 52,428,800"
    megabyte = b"\0" * 2**20
    status, body = send_upload(web, None, [megabyte] * (MAX_UPLOAD_BYTES // 2**20 + 1))  # no length said
    assert status == 413 and one_line_error(body) == \
        "the upload is over 52,428,800 bytes, the most a weights file may be"
    assert sorted(p.name for p in (project / "models").iterdir()) == [DEFAULT_3D.name]


@pytest.mark.parametrize("data", [pickle.dumps({"weights": [1, 2, 3]}), b"GIF89a not weights"], ids=["pickle", "other"])
def test_an_upload_that_is_not_hdf5_weights_is_refused(web, project, data):
    status, body = ask(web, "POST", "/api/library/upload", data)
    assert status == 400 and one_line_error(body).startswith(
        "the upload is not an IMPS weights file: it is not a readable HDF5 weights file")
    assert sorted(p.name for p in (project / "models").iterdir()) == [DEFAULT_3D.name]


@pytest.mark.parametrize("settings, refused", [
    ({"dimension": 3}, "missing 1 required positional argument: 'dataset'"),
    ({"dataset": "x.npz", "dimension": 3, "gpu": 1}, "unknown training settings: gpu"),
    ({"dataset": "x.npz", "dimension": "3"}, "expected dataset (a name), dimension, epochs and warmup (whole numbers), "
                                             "size (a name), minutes (a number) and early_stopping (true or false)"),
    ({"dataset": "x.npz", "dimension": 3, "warmup": 0.5}, "expected dataset (a name), dimension, epochs and warmup "
                                                          "(whole numbers), size (a name), minutes (a number) and "
                                                          "early_stopping (true or false)"),
])
def test_training_settings_are_checked(web, settings, refused):
    status, body = ask(web, "POST", "/api/library/train", json.dumps(settings).encode())
    assert status == 400 and one_line_error(body) == refused


def test_the_training_job_says_nothing_runs_and_stop_stops_nothing(web):
    assert json.loads(ask(web, "GET", "/api/library/train?since=0")[1]) == \
        {"running": False, "exit_code": None, "stopping": False, "next": 0, "lines": []}
    assert ask(web, "POST", "/api/library/train/stop", b"") == (200, b'{"stopping":false}')


def test_the_page_and_its_script_are_served(web):
    status, page = ask(web, "GET", "/library/")
    assert status == 200 and b"/library-static/library.js" in page
    status, script = ask(web, "GET", "/library-static/library.js")
    assert status == 200 and b'"X-CSRF-Token": csrf' in script


@pytest.mark.slow
def test_a_model_trained_from_the_page_streams_its_progress_and_stops_with_its_best_weights(web, project):
    rng = np.random.default_rng(0)
    save_dataset(Dataset.from_performances([rng.random((1500, 3)), rng.random((1500, 3))]),
                 project / "datasets" / "training-dataset-3d.npz")
    settings = {"dataset": "training-dataset-3d.npz", "dimension": 3, "size": "xxs", "epochs": 1000}
    assert ask(web, "POST", "/api/library/train", json.dumps(settings).encode()) == (200, b'{"started":true}')
    lines: list[str] = []
    deadline = time.monotonic() + 180
    while not any("val_loss" in line for line in lines) and time.monotonic() < deadline:
        job = json.loads(ask(web, "GET", f"/api/library/train?since={len(lines)}")[1])
        assert job["next"] == len(lines) + len(job["lines"])
        lines += job["lines"]
        time.sleep(0.5)
    assert any("val_loss" in line for line in lines), lines
    assert ask(web, "POST", "/api/library/train", json.dumps(settings).encode()) == \
        (400, b'{"error":"a model is training already: stop it first"}')
    assert ask(web, "POST", "/api/library/train/stop", b"") == (200, b'{"stopping":true}')
    while job["exit_code"] is None and time.monotonic() < deadline:
        job = json.loads(ask(web, "GET", f"/api/library/train?since={len(lines)}")[1])
        lines += job["lines"]
        time.sleep(0.5)
    assert job["exit_code"] == 130 and not job["running"], lines
    models = {model["name"]: model for model in json.loads(ask(web, "GET", "/api/library")[1])["models"]}
    assert models["musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"]["shape"] == \
        "2 layers of 16 units, 5 mixtures"


def test_the_log_a_performance_is_writing_cannot_be_deleted(project, osc_receiver):
    config = ServerConfig(3, "polyphony", server_ip="127.0.0.1", server_port=free_udp_port(), client_ip="127.0.0.1",
                          client_port=osc_receiver.port, logs_dir=project / "logs")
    server = PerformanceServer(config, model_to_play(config).predictor, report=lambda line: None)
    server.start()
    web = WebServer(bind("127.0.0.1", 0), server, routes=library_routes(project), access=Access(TOKEN, "csrf"))
    web.start()
    try:
        writing = server.log.path.name
        status, body = ask(web, "POST", f"/api/library/delete/logs/{writing}", b"")
        assert status == 400 and one_line_error(body) == \
            f"logs/{writing} is being written by the performance: stop it first"
        assert ask(web, "POST", f"/api/library/delete/logs/{LOG_3D}", b"")[0] == 200  # another log may go
    finally:
        web.stop()
        server.stop()
    assert (project / "logs" / writing).is_file()


def test_the_script_serves_the_library_with_web(project, osc_receiver):
    server, port = script_with_web(project, osc_receiver.port)
    try:
        assert server.wait_ready(60), server.output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/library", timeout=10) as listing:
            assert [log["name"] for log in json.loads(listing.read())["logs"]] == [LOG_3D]
    finally:
        assert server.stop() == 0, server.output


def test_a_file_the_system_refuses_is_one_line(web, project, monkeypatch):
    def refused(path, missing_ok=False):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    monkeypatch.setattr(Path, "unlink", refused)  # the server's thread is in this process
    status, body = ask(web, "POST", f"/api/library/delete/logs/{LOG_3D}", b"")
    assert (status, one_line_error(body)) == (500, f"/api/library/delete/logs/{LOG_3D}: Permission denied")
