"""The examples in the package's docstrings run."""

from __future__ import annotations

import doctest

import bits_helper_token as bht
from bits_helper_token import strategies


def test_the_docstring_examples_run() -> None:
    for module in (bht, strategies):
        result = doctest.testmod(module)
        assert result.failed == 0
    assert doctest.testmod(bht).attempted >= 2
