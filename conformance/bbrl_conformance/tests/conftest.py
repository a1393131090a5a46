"""Fixtures of the shipped suite; loaded only when the suite's tests are collected."""

from __future__ import annotations

from typing import cast

import pytest

from bbrl_conformance import _profiles
from bbrl_conformance._backends import Backend, BackendDeclarationError, declared_backends
from bbrl_conformance._impl import (
    Implementation,
    ImplementationError,
    LoadedImplementation,
    chosen_module_name,
    load_implementation,
)
from bbrl_conformance.plugin import STATE_KEY

_BACKENDS_KEY = pytest.StashKey[list[Backend]]()


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


def _backends(config: pytest.Config) -> list[Backend]:
    """The env agent backends the implementation declares (ENV-16), read once per session."""
    if _BACKENDS_KEY not in config.stash:
        name = chosen_module_name(config.getoption("impl"))
        backends = [Backend("default")]
        if name is not None:
            try:
                module = load_implementation(name).module
            except ImplementationError:
                pass  # the plugin reports it
            else:
                try:
                    backends = declared_backends(module)
                except BackendDeclarationError as exc:
                    raise pytest.UsageError(f"bbrl_conformance: {name}: {exc}") from exc
        config.stash[_BACKENDS_KEY] = backends
    return config.stash[_BACKENDS_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test taking the ``backend`` fixture runs once per declared backend, the backend's
    name first in the test ID (``test_x[async-...]``)."""
    if "backend" in metafunc.fixturenames:
        backends = _backends(metafunc.config)
        metafunc.parametrize("backend", backends, ids=[b.name for b in backends])


@pytest.fixture(scope="session")
def all_backends(request: pytest.FixtureRequest) -> list[Backend]:
    """Every env agent backend the implementation declares, in declaration order."""
    return _backends(request.config)
