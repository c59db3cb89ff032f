"""imps.perform.keys: single keys from a terminal, read through a real pty, in-process and
from the real script (its stdin a terminal, as when a musician starts it)."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import termios
import time

import pytest

from conftest import Recorder, free_udp_port
from harness import READY, SERVER_SCRIPT
from imps.perform.keys import KeyCommands

WAIT = 5.0


def cooked(fd: int) -> bool:
    """Whether the terminal echoes and reads whole lines, as a shell leaves it."""
    lflag = termios.tcgetattr(fd)[3]
    return bool(lflag & termios.ECHO) and bool(lflag & termios.ICANON)


def test_keys_call_their_actions_in_cbreak_mode_and_stop_puts_the_terminal_back():
    master, slave = pty.openpty()
    pressed = Recorder()
    try:
        assert cooked(slave)
        keys = KeyCommands({"m": lambda: pressed.add("m"), "r": lambda: pressed.add("r"),
                            " ": lambda: pressed.add("space")}, slave)
        keys.start()
        assert not cooked(slave)  # each key as it is pressed, unechoed
        assert termios.tcgetattr(slave)[3] & termios.ISIG  # Ctrl-C still interrupts
        os.write(master, b"mR x\x1b[A")  # either case; unknown keys and an arrow do nothing
        assert pressed.wait_for(3, WAIT) == ["m", "r", "space"]
        keys.stop()
        assert cooked(slave)
        os.write(master, b"m\n")
        assert pressed.wait_for(4, 0.2) == ["m", "r", "space"]  # the thread has ended
    finally:
        os.close(master)
        os.close(slave)


def test_no_keys_without_a_terminal_in_the_foreground(tmp_path):
    with open(os.devnull) as devnull:
        assert KeyCommands.for_terminal({}, devnull) is None
    master, slave = pty.openpty()  # a terminal, but not this process's: reading it could stop us
    try:
        with os.fdopen(os.dup(slave)) as terminal:
            assert KeyCommands.for_terminal({}, terminal) is None
        assert cooked(slave)
    finally:
        os.close(master)
        os.close(slave)


class Terminal:
    """The real script run with a pty as its controlling terminal (stdin, stdout, stderr),
    as a musician runs it in a terminal window."""

    def __init__(self, *flags: str, cwd):
        self.synth_port = free_udp_port()
        pid, self.master = pty.fork()
        if pid == 0:  # the child: becomes the script, and never returns into the tests
            try:
                os.chdir(cwd)
                os.execv(sys.executable, [sys.executable, str(SERVER_SCRIPT), "-d", "3", "--serverip", "127.0.0.1",
                                          "--serverport", str(free_udp_port()), "--clientip", "127.0.0.1",
                                          "--clientport", str(self.synth_port), *flags])
            finally:
                os._exit(127)
        self.pid = pid
        self.output = ""

    def _read(self, deadline: float) -> bool:
        """Read what the script wrote, waiting until `deadline`; False once it has ended
        (Linux answers a read of a pty whose other side has closed with EIO) or time is up."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.master], [], [], remaining)[0]:
            return False
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return False
        self.output += data.decode(errors="replace").replace("\r\n", "\n")
        return bool(data)

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if not self._read(deadline):
                return text in self.output
        return True

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def end(self) -> int:
        """Wait for the script to exit; its exit code."""
        deadline = time.monotonic() + 15
        while self._read(deadline):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.master)
        return os.waitstatus_to_exitcode(status)

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):  # it has ended, and been waited for
            pass


@pytest.mark.slow
def test_the_script_takes_m_r_and_space_from_its_terminal_and_gives_it_back_on_ctrl_c(tmp_path):
    terminal = Terminal("--polyphony", cwd=tmp_path)
    try:
        assert terminal.wait_for(READY), terminal.output
        ready = next(line for line in terminal.output.splitlines() if READY in line)
        assert "Keys: m the next mode, r reset the model, space pause or resume. Ctrl-C stops." in ready
        assert not cooked(terminal.master)
        terminal.press(b"m")
        assert terminal.wait_for("mode: battle", WAIT), terminal.output
        terminal.press(b"r")
        assert terminal.wait_for("model reset:", WAIT), terminal.output
        terminal.press(b" ")
        assert terminal.wait_for("paused:", WAIT), terminal.output
        terminal.press(b" ")
        assert terminal.wait_for("resumed:", WAIT), terminal.output
        terminal.press(b"\x03")  # Ctrl-C, as the terminal sends it: SIGINT
        assert terminal.wait_for("stopped:", 15), terminal.output
        assert cooked(terminal.master)  # given back before the script ended
        assert terminal.end() == 0, terminal.output
    finally:
        terminal.kill()


@pytest.mark.slow
def test_nokeys_leaves_the_terminal_alone(tmp_path):
    terminal = Terminal("--polyphony", "--nokeys", cwd=tmp_path)
    try:
        assert terminal.wait_for(READY), terminal.output
        assert "Keys:" not in terminal.output
        assert cooked(terminal.master)
        os.kill(terminal.pid, signal.SIGINT)
        assert terminal.end() == 0, terminal.output
    finally:
        terminal.kill()
