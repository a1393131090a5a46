"""pytest plugin of the conformance suite (registered through the pytest11 entry point)."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bbrl_conformance")
    group.addoption(
        "--impl",
        default=None,
        help="module implementing the BBRL core to test (or set BBRL_CONFORMANCE_IMPL)",
    )
