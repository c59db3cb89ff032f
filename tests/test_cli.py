"""imps.core.cli: what the scripts share; here, sizes as a musician writes them."""

import argparse

import pytest

from imps.core.cli import file_size


@pytest.mark.parametrize("text, size", [("100MB", 100_000_000), ("500kB", 500_000), ("2GB", 2_000_000_000),
                                        ("20000", 20_000), ("1.5 mb", 1_500_000), ("64K", 64_000), ("7B", 7)])
def test_sizes_in_bytes_and_powers_of_1000(text, size):
    assert file_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-5MB", "5TB", "MB", "1e6", "1,000"])
def test_anything_else_is_one_clear_refusal(text):
    with pytest.raises(argparse.ArgumentTypeError, match="a size is a number and a unit, such as 100MB, 500kB or "
                                                         f"2GB, not {text!r}"):
        file_size(text)
