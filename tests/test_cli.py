"""imps.core.cli: what the scripts share; here, sizes as a musician writes them and the
warning line."""

import argparse

import pytest

from imps.core.cli import file_size, warning_line


@pytest.mark.parametrize("text, size", [("100MB", 100_000_000), ("500kB", 500_000), ("2GB", 2_000_000_000),
                                        ("20000", 20_000), ("1.5 mb", 1_500_000), ("64K", 64_000), ("7B", 7)])
def test_sizes_in_bytes_and_powers_of_1000(text, size):
    assert file_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-5MB", "5TB", "MB", "1e6", "1,000"])
def test_anything_else_is_one_clear_refusal(text):
    with pytest.raises(argparse.ArgumentTypeError, match="a size is a number and a unit, such as 100MB, 500kB or "
                                                         f"2GB, not {text!r}"):
        file_size(text)


class Terminal:
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_warning_line_is_plain_unless_it_goes_to_a_terminal_that_shows_colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert warning_line("the log is full") == "warning: the log is full"
    assert warning_line("the log is full", Terminal()) == "\033[33mwarning\033[0m: the log is full"
    monkeypatch.setenv("NO_COLOR", "1")
    assert warning_line("the log is full", Terminal()) == "warning: the log is full"
