"""The web page's server (imps.web.address, app, hub, runner) through real sockets: OSC over
WebSocket played and answered like UDP, validated and counted alike; the watch stream;
the commands as POSTs; nothing listening when no page is open; and the script's --web."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
import urllib.request

import pytest
import websockets

from harness import ServerProcess, free_udp_port, message, wakeups
from harness.web import WebStage, script_with_web
from imps.perform.osc import INTERFACE, PREDICTION
from imps.web.hub import CLIENT_QUEUE, SHOWN_RATE, WINDOW, Client, Hub
from imps.web.address import bind, page_url
from imps.core.errors import WebError

WAIT = 10.0


@pytest.fixture
def stage(osc_receiver, in_tmp_dir):
    stage = WebStage(osc_receiver.port, logs_dir=in_tmp_dir / "logs")
    yield stage
    stage.stop()


def interface(*values: float) -> bytes:
    return message("/interface", *(("f", v) for v in values))


def test_the_page_and_its_files_are_served_from_the_package(stage):
    for path, kind in [("/", "text/html"), ("/static/app.js", "javascript"), ("/static/osc.js", "javascript"),
                       ("/static/style.css", "text/css"), ("/static/sketch.html", "text/html")]:
        status, headers, body = stage.request("GET", path)
        assert status == 200 and kind in headers["content-type"] and body
    status, _, body = stage.request("GET", "/api/session")
    about = json.loads(body)
    assert status == 200 and about["controls"] == 2 and about["model"] and "polyphony" in about["modes"]
    # Nothing from elsewhere: the page works offline.
    _, _, page = stage.request("GET", "/")
    assert not re.search(rb"(src|href)=\"(https?:)?//", page)


def test_a_websocket_interface_is_logged_and_answered_on_the_websocket_and_at_the_synth(stage, osc_receiver):
    async def play():
        async with websockets.connect(stage.ws + "/ws/osc") as instrument:
            await instrument.send(interface(0.25, 0.75))
            return await asyncio.wait_for(instrument.recv(), WAIT)

    frame = asyncio.run(play())
    (_, address, args), = osc_receiver.wait_for(1)
    assert address == PREDICTION
    # The very bytes the synth got over UDP.
    assert frame == stage.server.sender.packet(args)
    assert stage.server.performance.user_events == 1
    stage.server.stop()  # closes the log
    assert b",interface,0.25,0.75" in next((stage.server.log.path).parent.glob("*.log")).read_bytes()


def test_websocket_packets_are_checked_and_counted_as_udp_ones_are(stage, osc_receiver):
    bad = [b"/interface\x00\x00,f\x00\x00",  # cut short
           b"not osc!",  # not a message
           interface(0.5),  # too few values
           message("/nonsense", ("f", 1.0))]

    async def play():
        async with websockets.connect(stage.ws + "/ws/osc") as instrument:
            for packet in bad:
                await instrument.send(packet)
            await instrument.send("/interface 0.5 0.5")  # text: not OSC
            await instrument.send(interface(0.5, 0.5))
            return await asyncio.wait_for(instrument.recv(), WAIT)

    assert asyncio.run(play()).startswith(b"/prediction\x00")
    assert stage.server.rejects == {"malformed packet": 3, "bad /interface": 1, "unknown address": 1}
    assert stage.server.performance.user_events == 1
    # The same packets over UDP count the same way.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as patch:
        for packet in bad:
            patch.sendto(packet, ("127.0.0.1", stage.osc_port))
        patch.sendto(interface(0.5, 0.5), ("127.0.0.1", stage.osc_port))
    osc_receiver.wait_for(2)
    assert stage.server.rejects == {"malformed packet": 5, "bad /interface": 2, "unknown address": 2}


def test_the_watch_stream_shows_both_sides_and_the_state(stage):
    async def watch():
        async with websockets.connect(stage.ws + "/ws/watch") as page:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as patch:
                patch.sendto(interface(0.1, 0.9), ("127.0.0.1", stage.osc_port))
            events, states = [], []
            while not (states and any(is_model for is_model, _, _ in events)):
                batch = json.loads(await asyncio.wait_for(page.recv(), WAIT))
                events += batch["events"]
                states += [batch["state"]] if "state" in batch else []
            return events, states

    events, states = asyncio.run(watch())
    assert events[0][0] is False and events[0][2] == pytest.approx([0.1, 0.9])
    assert any(is_model for is_model, _, _ in events)
    state = states[-1]
    assert state["mode"] == "polyphony" and state["log"].endswith(".log") and state["refused"] == {}


def test_with_no_page_open_nothing_listens_to_the_performance(stage):
    assert stage.server._listeners == ()

    async def open_and_close():
        async with websockets.connect(stage.ws + "/ws/watch"), websockets.connect(stage.ws + "/ws/osc"):
            assert len(stage.server._listeners) == 1
    asyncio.run(open_and_close())
    deadline = time.monotonic() + WAIT
    while stage.server._listeners and time.monotonic() < deadline:
        time.sleep(0.01)  # the server sees the close a moment after the client
    assert stage.server._listeners == ()


def test_a_watcher_keeps_up_with_200_events_a_second(stage):
    seconds, rate = 2.0, 200

    async def watch():
        async with websockets.connect(stage.ws + "/ws/watch") as page:
            loop = asyncio.get_running_loop()
            sending = loop.run_in_executor(None, play, seconds, rate)
            seen, dropped = 0, 0
            while seen < seconds * rate:
                batch = json.loads(await asyncio.wait_for(page.recv(), WAIT))
                seen += sum(not is_model for is_model, _, _ in batch["events"])
                dropped = batch["dropped"]
            await sending
            return seen, dropped

    def play(seconds: float, rate: float) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as patch:
            start = time.monotonic()
            for i in range(int(seconds * rate)):
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
                patch.sendto(interface(i % 100 / 100, 0.5), ("127.0.0.1", stage.osc_port))

    seen, dropped = asyncio.run(watch())
    assert seen == seconds * rate and dropped == 0


def test_a_slow_client_loses_its_oldest_events_and_blocks_nobody():
    async def fill():
        client = Client(wants_interface=True)
        for i in range(CLIENT_QUEUE + 10):
            client.offer(i)
        return client, await client.take()

    client, taken = asyncio.run(fill())
    assert client.dropped == 10 and taken[0] == 10 and len(taken) == CLIENT_QUEUE


def test_pages_are_shown_at_most_the_shown_rate_and_told_how_many_were_not(stage):
    burst = round(SHOWN_RATE * WINDOW)  # events shown in one window

    async def flood():
        hub = Hub(stage.server)
        page, instrument = hub.join(wants_interface=True), hub.join(wants_interface=False)
        for _ in range(3 * burst):  # all within one window, from IMPS's threads as a flood would come
            hub.heard(INTERFACE, 100.0, [0.5, 0.5])
            hub.heard(PREDICTION, 100.0, [0.25, 0.75])
        shown, played = await page.take(), await instrument.take()
        hub.heard(INTERFACE, 100.0 + WINDOW, [0.5, 0.5])  # the next window is shown again
        shown_next = await page.take()
        hub.leave(page)
        hub.leave(instrument)
        return hub, page, shown, played, shown_next

    hub, page, shown, played, shown_next = asyncio.run(flood())
    assert len(shown) == burst and page.dropped == 0
    assert hub.unshown_since(page) == 5 * burst
    assert len(played) == 3 * burst  # an instrument gets every prediction, however many
    assert played[0] == stage.server.sender.packet([0.25, 0.75])
    assert [address for address, _, _ in shown_next] == [INTERFACE]
    assert stage.server._listeners == ()


def test_with_no_page_open_the_web_thread_sleeps(stage):
    web_thread = stage.web._thread.native_id
    time.sleep(0.2)  # past whatever start-up left to do
    before = wakeups(os.getpid(), web_thread)
    time.sleep(1.0)
    assert wakeups(os.getpid(), web_thread) == before  # no tick: woken only by a connection or by stop()


def test_stopping_closes_a_watching_page_at_once(stage):
    async def watch_until_stopped():
        async with websockets.connect(stage.ws + "/ws/watch") as page:
            await asyncio.get_running_loop().run_in_executor(None, stage.web.stop)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(page.recv(), WAIT)
            return closed.value.rcvd

    received = asyncio.run(watch_until_stopped())
    assert received is not None and received.code == 1012  # "service restart": the page says IMPS stopped
    assert not stage.web._thread.is_alive()


@pytest.mark.parametrize("name, args, taken", [
    ("mode", ["battle"], True), ("mode", ["chaos"], False), ("mode", [1], False),
    ("pause", [1], True), ("pause", [0.5], False), ("reset", [], True), ("reset", [1], False),
    ("temperature", [0.5, 0.25], True), ("temperature", [-1, 1], False), ("temperature", ["hot", 1], False),
    ("timescale", [0.5], True), ("timescale", [True], False), ("timescale", [[1]], False),
])
def test_commands_are_posts_checked_and_counted_as_over_osc(stage, name, args, taken):
    status, _, body = stage.request("POST", f"/api/command/{name}", {"args": args}, {"X-CSRF-Token": stage.csrf()})
    assert (status, json.loads(body)) == ((200, {"taken": True}) if taken else (400, {"taken": False}))
    assert stage.server.rejects == ({} if taken else {f"bad /{name}": 1})


def test_a_command_that_is_not_one_or_not_json_is_refused(stage):
    csrf = {"X-CSRF-Token": stage.csrf()}
    assert stage.request("POST", "/api/command/interface", {"args": [0.5, 0.5]}, csrf)[0] == 404
    assert stage.request("POST", "/api/command/mode", ["battle"], csrf)[0] == 400
    assert stage.request("GET", "/api/command/reset")[0] == 405  # a change is never a GET


def test_the_page_url_names_a_host_a_browser_can_reach_and_carries_the_token():
    with bind("127.0.0.1", 0) as here:
        assert page_url(here, None) == f"http://127.0.0.1:{here.getsockname()[1]}/"
    with bind("0.0.0.0", 0) as everywhere:  # the machine's name: 0.0.0.0 is no address to open
        assert page_url(everywhere, "t0ken") == f"http://{socket.gethostname()}:{everywhere.getsockname()[1]}/?token=t0ken"

    class BoundToIPv6:  # as a socket on ::1 says where it is, on machines with IPv6 or without
        def getsockname(self):
            return ("::1", 8000, 0, 0)

    assert page_url(BoundToIPv6(), None) == "http://[::1]:8000/"


def test_a_port_in_use_is_a_one_line_error(stage):
    with pytest.raises(WebError, match="already in use"):
        bind("127.0.0.1", stage.port)


def test_the_script_serves_the_page_with_web(in_tmp_dir, osc_receiver):
    server, port = script_with_web(in_tmp_dir, osc_receiver.port)
    try:
        assert server.wait_ready(60), server.output
        assert f"web page: http://127.0.0.1:{port}/" in server.output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"<title>IMPS</title>" in page.read()

        async def play():
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/osc") as instrument:
                await instrument.send(interface(0.5, 0.5))
                return await asyncio.wait_for(instrument.recv(), WAIT)
        assert asyncio.run(play()).startswith(b"/prediction\x00")
        assert osc_receiver.wait_for(1)
    finally:
        assert server.stop() == 0, server.output
    assert "1 events from the musician" in server.summary() and "Traceback" not in server.output


def test_the_script_refuses_a_bad_web_address_and_a_taken_port_in_one_line(in_tmp_dir):
    bad = ServerProcess("--web", "host:port", cwd=in_tmp_dir)
    bad.wait_until(lambda: bad.process.poll() is not None, 60)
    assert bad.stop() == 2 and "expected [HOST:]PORT" in bad.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = ServerProcess("-d", "3", "--nokeys", "--serverport", str(free_udp_port()), "--web",
                             str(taken.getsockname()[1]), cwd=in_tmp_dir)
        busy.wait_until(lambda: busy.process.poll() is not None, 60)
    assert busy.stop() == 1 and "already in use" in busy.output and "Traceback" not in busy.output


def test_the_watch_stream_counts_refused_packets_while_a_flood_of_them_arrives(stage):
    count = 3000

    async def watch():
        async with websockets.connect(stage.ws + "/ws/watch") as page:
            await asyncio.get_running_loop().run_in_executor(None, flood)
            while True:  # the stream lives on through the flood, and its state catches up
                batch = json.loads(await asyncio.wait_for(page.recv(), WAIT))
                if batch.get("state", {}).get("refused") == {"malformed packet": count}:
                    return

    def flood() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as patch:
            for _ in range(count):
                patch.sendto(b"not osc!", ("127.0.0.1", stage.osc_port))

    asyncio.run(watch())
