"""Shared fixtures of the reference tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

# One intra-op thread: the tensors here are tiny, and on a shared 2-core machine OpenMP's
# thread hand-off can make a single small op take tens of milliseconds.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_torch() -> Iterator[None]:
    torch.manual_seed(0)
    yield
