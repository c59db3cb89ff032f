"""Performance logs: named by time, never overwritten, written through, split at a size, stopped
whole when the disk refuses, read back forgivingly."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter

import numpy as np
import pytest

from imps.core.logs import LogEvent, PerformanceLog, read_log
from imps.core.names import TIMESTAMP_FORMAT, log_name
from imps.core.notices import words
from scripts import run_python

NOW = dt.datetime(2024, 3, 5, 7, 8, 9, 123456)


def test_start_names_the_log_after_the_time_and_dimension(tmp_path):
    log = PerformanceLog.start(tmp_path, 4, now=NOW)
    try:
        assert log.path == tmp_path / "2024-03-05T07-08-09-4d-mdrnn.log"
        assert log.path.is_file()
        assert log.path.read_text() == ""
        assert log.lines == 0
    finally:
        log.close()


def test_start_without_a_time_uses_now(tmp_path):
    before = dt.datetime.now().replace(microsecond=0)
    log = PerformanceLog.start(tmp_path, 3)
    after = dt.datetime.now()
    log.close()
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)-3d-mdrnn\.log", log.path.name)
    assert match, log.path.name
    stamp = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H-%M-%S")
    assert before <= stamp <= after


def test_start_makes_the_logs_folder(in_tmp_dir):
    log = PerformanceLog.start("logs/deeper", 2, now=NOW)
    log.close()
    assert (in_tmp_dir / "logs" / "deeper" / "2024-03-05T07-08-09-2d-mdrnn.log").is_file()


def test_two_logs_in_the_same_second_never_overwrite(tmp_path):
    first = PerformanceLog.start(tmp_path, 4, now=NOW)
    first.write("interface", [0.1, 0.2, 0.3], when=NOW)
    second = PerformanceLog.start(tmp_path, 4, now=NOW)
    third = PerformanceLog.start(tmp_path, 4, now=NOW.replace(microsecond=999999))
    second.write("rnn", [0.4, 0.5, 0.6], when=NOW)
    for log in (first, second, third):
        log.close()
    assert first.path.name == "2024-03-05T07-08-09-4d-mdrnn.log"
    assert second.path.name == "2024-03-05T07-08-09-2-4d-mdrnn.log"
    assert third.path.name == "2024-03-05T07-08-09-3-4d-mdrnn.log"
    assert len({first.path, second.path, third.path}) == 3
    assert [e.source for e in read_log(first.path, 3).events] == ["interface"]
    assert [e.source for e in read_log(second.path, 3).events] == ["rnn"]
    assert read_log(third.path, 3).events == []


def test_start_never_overwrites_an_existing_file(tmp_path):
    existing = tmp_path / "2024-03-05T07-08-09-4d-mdrnn.log"
    existing.write_text("precious\n")
    log = PerformanceLog.start(tmp_path, 4, now=NOW)
    log.write("interface", [1, 2, 3])
    log.close()
    assert log.path != existing
    assert existing.read_text() == "precious\n"
    assert len(read_log(log.path, 3).events) == 1


def test_another_dimension_in_the_same_second_gets_its_own_name(tmp_path):
    a = PerformanceLog.start(tmp_path, 4, now=NOW)
    b = PerformanceLog.start(tmp_path, 2, now=NOW)
    a.close()
    b.close()
    assert a.path.name == "2024-03-05T07-08-09-4d-mdrnn.log"
    assert b.path.name == "2024-03-05T07-08-09-2d-mdrnn.log"


def test_lines_are_on_disk_as_soon_as_written(tmp_path):
    log = PerformanceLog.start(tmp_path, 3, now=NOW)
    try:
        log.write("interface", [0.25, 0.5], when=NOW)
        with open(log.path, encoding="utf-8") as other:
            assert other.read() == "2024-03-05T07:08:09.123456,interface,0.25,0.5\n"
        log.write("rnn", [0.75, 1.0], when=NOW + dt.timedelta(seconds=1))
        with open(log.path, encoding="utf-8") as other:
            lines = other.read().splitlines()
        assert lines == ["2024-03-05T07:08:09.123456,interface,0.25,0.5",
                         "2024-03-05T07:08:10.123456,rnn,0.75,1.0"]
        # What another reader sees before close parses completely.
        assert len(read_log(log.path, 2).events) == 2
        assert log.lines == 2
    finally:
        log.close()


def test_values_are_written_as_float32(tmp_path):
    log = PerformanceLog.start(tmp_path, 4, now=NOW)
    log.write("interface", [np.float64(0.1), 1, np.float32(1 / 3)], when=NOW)
    log.close()
    line = log.path.read_text()
    assert line == f"{NOW.isoformat()},interface,0.1,1.0,0.33333334\n"
    values = read_log(log.path, 3).events[0].values
    assert np.array_equal(np.float32(values), np.float32([0.1, 1.0, 1 / 3]))


def test_writes_after_close_are_dropped_quietly(tmp_path):
    log = PerformanceLog.start(tmp_path, 2, now=NOW)
    log.write("interface", [0.5], when=NOW)
    log.close()
    log.write("interface", [0.6], when=NOW)  # a late OSC message must not crash the server
    log.close()  # closing twice is harmless
    assert log.lines == 1
    assert log.path.read_text() == f"{NOW.isoformat()},interface,0.5\n"


def test_concurrent_writers_give_whole_lines(tmp_path):
    log = PerformanceLog.start(tmp_path, 4, now=NOW)
    n_threads, n_lines = 8, 400
    barrier = threading.Barrier(n_threads)

    def writer(thread):
        barrier.wait()
        source = "interface" if thread % 2 else "rnn"
        for i in range(n_lines):
            log.write(source, [thread, i, 0.125])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()

    assert log.lines == n_threads * n_lines
    text = log.path.read_text()
    assert text.endswith("\n")
    assert len(text.splitlines()) == n_threads * n_lines
    contents = read_log(log.path, 3)
    assert contents.skipped == Counter()
    assert len(contents.events) == n_threads * n_lines
    seen = Counter()
    for event in contents.events:
        thread, i, last = event.values
        assert last == 0.125
        assert event.source == ("interface" if int(thread) % 2 else "rnn")
        seen[(int(thread), int(i))] += 1
    assert seen == Counter({(t, i): 1 for t in range(n_threads) for i in range(n_lines)})
    # Each thread's lines keep their order.
    for thread in range(n_threads):
        order = [int(e.values[1]) for e in contents.events if int(e.values[0]) == thread]
        assert order == list(range(n_lines))


def test_read_log_round_trip(tmp_path):
    log = PerformanceLog.start(tmp_path, 4, now=NOW)
    written = []
    rng = np.random.default_rng(7)
    for i in range(50):
        when = NOW + dt.timedelta(seconds=0.137 * i)
        source = "rnn" if i % 3 == 0 else "interface"
        values = rng.random(3).astype(np.float32)
        log.write(source, values, when=when)
        written.append((when.timestamp(), source, values))
    log.close()

    contents = read_log(log.path, 3)
    assert contents.skipped == Counter()
    assert len(contents.events) == 50
    for event, (time, source, values) in zip(contents.events, written):
        assert isinstance(event, LogEvent)
        assert event.time == pytest.approx(time, abs=1e-6)
        assert event.source == source
        assert np.array_equal(np.float32(event.values), values)


def test_read_log_accepts_a_timezone_and_windows_line_endings(tmp_path):
    path = tmp_path / "x-3d-mdrnn.log"
    path.write_bytes(b"2024-03-05T07:08:09+00:00,interface,0.5,0.25\r\n"
                     b"2024-03-05T07:08:10,rnn,1,2\r\n")
    contents = read_log(path, 2)
    assert contents.skipped == Counter()
    assert [e.values for e in contents.events] == [[0.5, 0.25], [1.0, 2.0]]
    assert contents.events[0].time == dt.datetime(2024, 3, 5, 7, 8, 9, tzinfo=dt.timezone.utc).timestamp()


def test_read_log_skips_and_counts_every_bad_line_by_reason(tmp_path):
    path = tmp_path / "messy-4d-mdrnn.log"
    good = [
        "2024-03-05T07:08:09.000000,interface,0.1,0.2,0.3\n",
        "2024-03-05T07:08:09.500000,rnn,0.4,0.5,0.6\n",
        "2024-03-05T07:08:10,interface,1,0,-2.5e-1\n",
    ]
    bad = {
        "not a log line": ["\n", "   \n", "hello\n", "\x00\x01garbage\n"],
        "wrong number of values (not 3)": [
            "2024-03-05T07:08:11,interface,0.1,0.2\n",
            "2024-03-05T07:08:11,interface,0.1,0.2,0.3,0.4\n",
            "2024-03-05T07:08:11,interface\n",
        ],
        "non-numeric value": [
            "2024-03-05T07:08:11,interface,0.1,abc,0.3\n",
            "2024-03-05T07:08:11,interface,0.1,,0.3\n",
        ],
        "non-finite value": [
            "2024-03-05T07:08:11,interface,nan,0.2,0.3\n",
            "2024-03-05T07:08:11,rnn,0.1,NaN,0.3\n",
            "2024-03-05T07:08:11,interface,0.1,0.2,inf\n",
            "2024-03-05T07:08:11,interface,-inf,0.2,0.3\n",
        ],
        "bad timestamp": [
            "yesterday,interface,0.1,0.2,0.3\n",
            "2024-13-45T07:08:11,interface,0.1,0.2,0.3\n",
            ",interface,0.1,0.2,0.3\n",
        ],
        "unknown source": [
            "2024-03-05T07:08:11,musician,0.1,0.2,0.3\n",
            "2024-03-05T07:08:11,Interface,0.1,0.2,0.3\n",
        ],
    }
    lines = [good[0], *bad["not a log line"][:2], good[1]]
    for reason, examples in bad.items():
        if reason != "not a log line":
            lines += examples
    lines += bad["not a log line"][2:]
    lines.append(good[2])
    with open(path, "wb") as f:
        f.write("".join(lines).encode())
        f.write(b"\xff\xfe not utf-8 at all\n")  # decoded with replacement, then skipped
        f.write(b"2024-03-05T07:08:12,interface,0.1,0.2,0.")  # the crash cut this one short

    contents = read_log(path, 3)
    expected = Counter({reason: len(examples) for reason, examples in bad.items()})
    expected["not a log line"] += 1
    expected["unfinished last line"] = 1
    assert contents.skipped == expected
    assert [(e.source, e.values) for e in contents.events] == [
        ("interface", [0.1, 0.2, 0.3]),
        ("rnn", [0.4, 0.5, 0.6]),
        ("interface", [1.0, 0.0, -0.25]),
    ]
    assert contents.events[0].time == dt.datetime(2024, 3, 5, 7, 8, 9).timestamp()
    assert contents.events[2].time - contents.events[0].time == pytest.approx(1.0)


def test_read_log_counts_another_dimensions_lines_as_wrong_count(tmp_path):
    path = tmp_path / "a-4d-mdrnn.log"
    log = PerformanceLog(path)
    for i in range(5):
        log.write("interface", [0.1, 0.2, 0.3], when=NOW)
    log.close()
    contents = read_log(path, 1)
    assert contents.events == []
    assert contents.skipped == Counter({"wrong number of values (not 1)": 5})


def test_read_log_of_an_empty_file_and_of_only_an_unfinished_line(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    contents = read_log(empty, 3)
    assert contents.events == [] and contents.skipped == Counter()

    cut = tmp_path / "cut.log"
    cut.write_text("2024-03-05T07:08:12,interface,0.1,0.2,0.3")  # whole but for its newline
    contents = read_log(cut, 3)
    assert contents.events == []
    assert contents.skipped == Counter({"unfinished last line": 1})


def test_performance_log_refuses_an_existing_path(tmp_path):
    path = tmp_path / "taken.log"
    path.write_text("keep\n")
    with pytest.raises(FileExistsError):
        PerformanceLog(path)
    assert path.read_text() == "keep\n"


def test_a_size_limit_goes_on_in_new_files_named_by_time_and_loses_no_line(tmp_path):
    said = []
    log = PerformanceLog.start(tmp_path, 4, now=NOW, max_bytes=1000, notify=lambda notice: said.append(words(notice)))
    for i in range(100):
        log.write("interface" if i % 2 else "rnn", [i, 0.5, 0.25], when=NOW + dt.timedelta(seconds=i))
    log.close()
    files = sorted(tmp_path.iterdir())  # names sort in time order
    assert len(files) == log.files >= 5
    events = []
    for path in files:
        assert 0 < path.stat().st_size <= 1000
        contents = read_log(path, 3)
        assert not contents.skipped
        first = dt.datetime.fromtimestamp(contents.events[0].time)
        assert path.name == log_name(first.strftime(TIMESTAMP_FORMAT), 4)  # after its first line
        events += contents.events
    assert [int(e.values[0]) for e in events] == list(range(100))
    assert log.lines == 100
    assert said == [f"log: {full} reached 1,000 bytes; going on in {new}" for full, new in zip(files, files[1:])]
    assert log.summary() == f"100 lines logged to {len(files)} files, {files[0]} to {files[-1]}"


def test_files_begun_in_the_same_second_never_overwrite_each_other(tmp_path):
    log = PerformanceLog.start(tmp_path, 2, now=NOW, max_bytes=1000, notify=lambda notice: None)
    for i in range(100):
        log.write("interface", [i], when=NOW)
    log.close()
    names = ["2024-03-05T07-08-09-2d-mdrnn.log"] + [f"2024-03-05T07-08-09-{n}-2d-mdrnn.log"
                                                     for n in range(2, log.files + 1)]
    assert log.files > 2 and sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    values = [e.values[0] for name in names for e in read_log(tmp_path / name, 1).events]
    assert values == list(range(100))


def test_a_size_limit_needs_a_name_that_gives_the_dimension(tmp_path):
    with pytest.raises(ValueError, match="needs a name that gives its dimension"):
        PerformanceLog(tmp_path / "free-form.log", max_bytes=1000)


# A child process writing 1,000 lines to a log where no file may pass 5,000 bytes.
WRITE_PAST_THE_LIMIT = """
import sys
from imps.core.logs import PerformanceLog
log = PerformanceLog.start(sys.argv[1], 4)
for i in range(1000):
    log.write("interface", [i, 0.5, 0.25])
log.close()
print(log.summary())
"""


def test_a_write_the_disk_refuses_stops_the_log_at_its_last_whole_line_said_once_and_counted(tmp_path):
    result = run_python(WRITE_PAST_THE_LIMIT, str(tmp_path), cwd=tmp_path, file_size_limit=5000)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    [path] = tmp_path.glob("*-4d-mdrnn.log")
    warning, summary = result.stdout.splitlines()
    assert warning == (f"warning: could not write to the log {path} (File too large). IMPS plays on without logging: "
                       "every line before this one is in the log whole, the lines from now on are not written, and "
                       "the summary at the end counts them")
    written, unwritten = map(int, re.fullmatch(rf"(\d+) lines logged to {re.escape(str(path))}; (\d+) lines NOT "
                                               r"logged after writing failed \(File too large\)", summary).groups())
    assert written + unwritten == 1000 and unwritten > 0
    raw = path.read_bytes()
    assert len(raw) <= 5000 and raw.endswith(b"\n")  # the line that did not fit was cut back off
    contents = read_log(path, 3)
    assert not contents.skipped
    assert [int(e.values[0]) for e in contents.events] == list(range(written))


def test_commands_are_logged_in_order_and_read_past_without_counting(tmp_path):
    log = PerformanceLog.start(tmp_path, 3, now=NOW)
    log.write("interface", [0.1, 0.2], when=NOW)
    log.command("mode", "battle")
    log.command("reset")
    log.command("pause", "1")
    log.write("rnn", [0.3, 0.4])
    log.close()
    lines = log.path.read_text().splitlines()
    assert [line.split(",", 1)[1] for line in lines] == ["interface,0.1,0.2", "command,mode,battle", "command,reset",
                                                          "command,pause,1", "rnn,0.3,0.4"]
    assert log.lines == 5
    contents = read_log(log.path, 2)
    assert [e.source for e in contents.events] == ["interface", "rnn"]
    assert contents.skipped == Counter()


def test_a_cut_off_command_line_is_a_bad_line_as_any_other(tmp_path):
    path = tmp_path / "cut-3d-mdrnn.log"
    path.write_text(f"{NOW.isoformat()},command,mode,batt")
    assert read_log(path, 2).skipped == Counter({"unfinished last line": 1})
