"""Hypothesis profiles of the suite (ci, dev, nightly) and torch's RNG under Hypothesis control."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# torch and hypothesis are imported inside the functions: the pytest plugin imports this module
# in every pytest session, where it must stay cheap and inert.

PROFILES = ("ci", "dev", "nightly", "mutants")
DEFAULT_PROFILE = "ci"

_registered = False


class TorchRandom:
    """torch's global RNG in the ``random.Random`` shape that ``register_random`` expects."""

    def seed(self, seed: int) -> None:
        import torch

        torch.manual_seed(seed)

    def getstate(self) -> Any:
        import torch

        return torch.get_rng_state()

    def setstate(self, state: Any) -> None:
        import torch

        torch.set_rng_state(state)


# register_random keeps only a weak reference: this module holds the strong one.
_TORCH_RANDOM = TorchRandom()


def register_profiles() -> None:
    """Register the suite's profiles (idempotent); loads none of them."""
    from hypothesis import HealthCheck, Phase, settings

    global _registered
    if _registered:
        return
    common = {
        "deadline": None,
        # Hypothesis' blob is replayed with a decorator on the test, which a suite user cannot
        # add: failures say how to rerun with the suite's runner instead.
        "print_blob": False,
        "suppress_health_check": [HealthCheck.too_slow],
    }
    # ci: the default; deterministic and bounded so a run takes well under two minutes.
    settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        max_examples=30,
        stateful_step_count=25,
        **common,  # type: ignore[arg-type]
    )
    # dev: random and quick, with the example database so failures replay locally.
    settings.register_profile("dev", max_examples=15, stateful_step_count=15, **common)  # type: ignore[arg-type]
    # nightly: random, many more examples and longer state-machine runs.
    settings.register_profile(
        "nightly",
        max_examples=1000,
        stateful_step_count=100,
        phases=list(Phase),
        **common,  # type: ignore[arg-type]
    )
    # mutants: ci without shrinking, for the suite's own mutant zoo (it only asks "does it fail?").
    settings.register_profile(
        "mutants",
        parent=settings.get_profile("ci"),
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        print_blob=False,
    )
    _registered = True


def chosen_profile(option: str | None) -> str:
    """--profile if given, else HYPOTHESIS_PROFILE if it names one of ours, else ``ci``."""
    name = option or os.environ.get("HYPOTHESIS_PROFILE", "").strip() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"profile: expected one of {', '.join(PROFILES)}, got {name!r}")
    return name


def storage_directory() -> Path:
    """Where Hypothesis keeps its files for the suite: ``$HYPOTHESIS_STORAGE_DIRECTORY``, else
    the user's cache (``$XDG_CACHE_HOME`` or ``~/.cache``), never the current directory."""
    chosen = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY", "").strip()
    if chosen:
        return Path(chosen)
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(cache) / "bbrl_conformance" / "hypothesis"


def activate(profile: str, max_examples: int | None = None) -> None:
    """Load ``profile`` (optionally with another max_examples) and register torch's RNG."""
    from hypothesis import register_random, settings
    from hypothesis.configuration import set_hypothesis_home_dir

    # Hypothesis writes .hypothesis/ into the current directory by default (its example
    # database, its cache of constants): the suite runs from anywhere, so it writes elsewhere.
    set_hypothesis_home_dir(storage_directory())
    register_profiles()
    if max_examples is not None:
        if max_examples <= 0:
            raise ValueError(f"max_examples: expected a positive integer, got {max_examples}")
        derived = f"{profile}-max{max_examples}"
        settings.register_profile(
            derived, parent=settings.get_profile(profile), max_examples=max_examples
        )
        settings.load_profile(derived)
    else:
        settings.load_profile(profile)
    register_random(_TORCH_RANDOM)
