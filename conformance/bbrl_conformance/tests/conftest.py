"""Fixtures of the shipped suite; loaded only when the suite's tests are collected."""

from __future__ import annotations

from typing import cast

import pytest

from bbrl_conformance import _profiles
from bbrl_conformance._impl import Implementation, LoadedImplementation
from bbrl_conformance.plugin import STATE_KEY


def pytest_configure(config: pytest.Config) -> None:
    # Called when this conftest is registered, i.e. before the test modules are imported, so
    # that @settings built at import time inherit the suite's profile.
    try:
        profile = _profiles.chosen_profile(config.getoption("profile"))
    except ValueError as exc:
        raise pytest.UsageError(f"bbrl_conformance: {exc}") from exc
    _profiles.activate(profile, config.getoption("max_examples"))


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Implementation:
    """The implementation under test (module or adapter named by --impl/BBRL_CONFORMANCE_IMPL).

    A name the implementation lacks is a stub that fails only the tests that use it.
    """
    loaded: LoadedImplementation | None = request.config.stash[STATE_KEY].impl
    if loaded is None:  # the plugin loads it at collection; absent only if it is disabled
        raise pytest.UsageError("bbrl_conformance: the plugin did not load an implementation")
    return cast(Implementation, loaded)
