"""The library's routes: logs, datasets and models listed, fetched and deleted, logs
collated, weights uploaded, a model trained, and the pictures IMPS draws.

Every route sits behind the core's Guard (security.py): the token beyond this machine,
and on each POST the Origin and the CSRF token. A name in a URL reaches the file system
only through library.resolve; `{name:path}` takes the whole rest of the URL, so that
`../x` is refused by the library, in one line, rather than by the router in silence.

    GET  /library/                        the library page (library_static/index.html)
    GET  /api/library                     logs, datasets, models, pictures and the training job
    GET  /api/library/file/KIND/NAME      a listed file, downloaded (KIND: logs, datasets, models, pictures)
    GET  /api/library/lanes/NAME          a log's lanes, drawn as PNG
    GET  /api/library/train?since=N       the training job: running, exit code, its lines from N
    POST /api/library/delete/KIND/NAME    delete a listed file
    POST /api/library/play/NAME           play a model from now on, where the performance can; and the
                                          command line that starts IMPS with it
    POST /api/library/collate             JSON {"logs": [names]}: the dataset of their dimension
    POST /api/library/upload              the weights file as the body, at most 50 MB
    POST /api/library/train               JSON {"dataset", "dimension", "size", "epochs", "minutes",
                                          "early_stopping", "warmup"}
    POST /api/library/train/stop          Ctrl-C to the trainer: it keeps its best weights
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import json
import tempfile
from functools import partial
from pathlib import Path
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..core.errors import IMPSError, reason_of
from . import library
from .library import MAX_UPLOAD_BYTES, Kind, NotListed
from .training_job import TrainingJob, TrainingRequest

STATIC = Path(__file__).parent / "library_static"
KINDS = {kind.name.lower(): kind for kind in Kind}
Handler = Callable[[Request], Awaitable[Response]]


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def _answering(handler: Handler) -> Handler:
    """What the library refuses, as one line of JSON: 404 for a name it does not list."""
    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except NotListed as error:
            return _error(str(error), 404)
        except IMPSError as error:
            return _error(str(error), 400)
        except OSError as error:  # a file gone or refused between its listing and its use
            return _error(f"{request.url.path}: {reason_of(error)}", 500)
    return answered


async def _off_the_loop(function, *args):
    """Reading, writing and drawing files take long enough to stall the performance's page."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))


def _kind(request: Request) -> Kind:
    kind = KINDS.get(request.path_params["kind"])
    if kind is None:
        raise NotListed(f"no files of kind {request.path_params['kind']!r}: choose one of {', '.join(KINDS)}")
    return kind


async def _json(request: Request) -> dict:
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise library.LibraryError("expected a JSON object")
    return body


def library_routes(root: Path | str = ".") -> list[BaseRoute]:
    """The library's routes for the project folder `root`, whose logs/, datasets/ and
    models/ the scripts use: the trainer writes models/ in the folder it starts in."""
    root = Path(root)
    job = TrainingJob(root)
    # A trainer outlives the page's process unless told: Ctrl-C ends it with its best weights kept.
    atexit.register(job.stop)

    async def listing(request: Request) -> Response:
        def everything() -> dict:
            return {"logs": [dataclasses.asdict(entry) for entry in library.list_logs(root)],
                    "datasets": [dataclasses.asdict(entry) for entry in library.list_datasets(root)],
                    "models": [dataclasses.asdict(entry) for entry in library.list_models(root)],
                    "pictures": [path.name for path in library.listed(root, Kind.PICTURES)]}
        return JSONResponse(await _off_the_loop(everything))

    async def download(request: Request) -> Response:
        path = library.resolve(root, _kind(request), request.path_params["name"])
        # The name IMPS listed, never the client's text, goes in the header.
        return FileResponse(path, filename=path.name, content_disposition_type=
                            "inline" if path.name.endswith(".png") else "attachment")

    async def lanes(request: Request) -> Response:
        path = library.resolve(root, Kind.LOGS, request.path_params["name"])

        def draw() -> bytes:
            from ..learn.plots import plot_log  # matplotlib: loaded when a picture is first asked for

            with tempfile.TemporaryDirectory(prefix="imps-lanes-") as folder:
                return plot_log(path, Path(folder) / "lanes.png", title=path.name).read_bytes()
        return Response(await _off_the_loop(draw), media_type="image/png")

    async def play(request: Request) -> Response:
        played = await _off_the_loop(library.play, root, request.path_params["name"], request.app.state.imps.server)
        return JSONResponse(dataclasses.asdict(played))

    async def delete(request: Request) -> Response:
        server = request.app.state.imps.server
        writing = [server.log.path] if server is not None and server.log is not None else []
        path = library.delete(root, _kind(request), request.path_params["name"], writing)
        return JSONResponse({"deleted": path.name})

    async def collate(request: Request) -> Response:
        names = (await _json(request)).get("logs")
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise library.LibraryError('expected {"logs": [names of listed logs]}')
        collated = await _off_the_loop(library.collate, root, names)
        return JSONResponse({"dataset": collated.path.name, "lines": collated.lines})

    async def upload(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
            return _error(f"the upload is {int(declared):,} bytes; weights files may be at most {MAX_UPLOAD_BYTES:,}",
                          413)
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:  # sent without a length, or more than it said
                return _error(f"the upload is over {MAX_UPLOAD_BYTES:,} bytes, the most a weights file may be", 413)
        kept = await _off_the_loop(library.accept_upload, root, bytes(data))
        return JSONResponse({"kept": kept.name})

    async def training(request: Request) -> Response:
        since = request.query_params.get("since", "0")
        following, lines = job.lines_since(int(since) if since.isdigit() else 0)
        return JSONResponse({"running": job.running, "exit_code": job.exit_code, "stopping": job.stopping,
                             "next": following, "lines": lines})

    async def train(request: Request) -> Response:
        body = await _json(request)
        unknown = set(body) - {field.name for field in dataclasses.fields(TrainingRequest)}
        if unknown:
            raise library.LibraryError(f"unknown training settings: {', '.join(sorted(unknown))}")
        try:
            request_ = TrainingRequest(**body)
        except TypeError as error:  # a required setting missing
            raise library.LibraryError(str(error).removeprefix("TrainingRequest.__init__() ")) from None
        _check_types(request_)
        job.start(request_.arguments(root))
        return JSONResponse({"started": True})

    async def stop(request: Request) -> Response:
        return JSONResponse({"stopping": job.stop()})

    return [
        Route("/library/", lambda request: FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})),
        Mount("/library-static", StaticFiles(directory=STATIC), name="library-static"),
        Route("/api/library", _answering(listing)),
        Route("/api/library/file/{kind}/{name:path}", _answering(download)),
        Route("/api/library/lanes/{name:path}", _answering(lanes)),
        Route("/api/library/play/{name:path}", _answering(play), methods=["POST"]),
        Route("/api/library/train", _answering(training)),
        Route("/api/library/delete/{kind}/{name:path}", _answering(delete), methods=["POST"]),
        Route("/api/library/collate", _answering(collate), methods=["POST"]),
        Route("/api/library/upload", _answering(upload), methods=["POST"]),
        Route("/api/library/train", _answering(train), methods=["POST"]),
        Route("/api/library/train/stop", _answering(stop), methods=["POST"]),
    ]


def _check_types(request: TrainingRequest) -> None:
    """JSON's numbers and strings where the request wants them: a bool is not a number here."""
    def number(value, kinds) -> bool:
        return isinstance(value, kinds) and not isinstance(value, bool)

    if not isinstance(request.dataset, str) or not number(request.dimension, int) \
            or not (request.size is None or isinstance(request.size, str)) \
            or not (request.epochs is None or number(request.epochs, int)) \
            or not (request.warmup is None or number(request.warmup, int)) \
            or not (request.minutes is None or number(request.minutes, (int, float))) \
            or not isinstance(request.early_stopping, bool):
        raise library.LibraryError("expected dataset (a name), dimension, epochs and warmup (whole numbers), size "
                                   "(a name), minutes (a number) and early_stopping (true or false)")
