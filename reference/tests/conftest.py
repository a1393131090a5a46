"""Shared fixtures of the reference tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_torch() -> Iterator[None]:
    torch.manual_seed(0)
    yield
