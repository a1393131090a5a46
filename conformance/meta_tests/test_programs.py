"""The end-to-end programs' checks can fail (STYLE C7).

The programs run against the reference in the suite and in tests/test_spec_programs.py; here,
their helpers are shown to catch defects: the env-row check (``EnvRecorder.check_rows``) on
rows corrupted one way at a time, ``several`` on a workspace that answers several names in the
wrong order, and the programs that run on the reference today against mutants of the zoo that
break what they exercise. The other programs call API of issue #10 that the reference does not
have yet; their kills were checked by hand against a reference extended with that API (see the
report of the programs branch).
"""

from __future__ import annotations

import importlib
import pickle
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import torch
from bbrl_conformance import programs
from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._recording import EnvRecorder

impl = pytest.importorskip("bbrl_reference")

MUTANTS_DIR = Path(__file__).resolve().parent / "mutants"

#: The zoo's mutants each program must fail on (it runs on the reference, so the defect is the
#: mutant's).
KILLS = {
    "notebook01_fibonacci": ["ta_one_step_too_many", "ws_get_full_stale"],
    "notebook03_autoreset": [
        "agents_reversed",
        "env_reset_row_reward",
        "env_timestep_off_by_one",
        "rb_size_counts_all",
        "ta_one_step_too_many",
        "tr_drop_second",
        "tr_env_major",
        "ws_get_full_stale",
        "ws_set_aliases",
    ],
}


@pytest.fixture
def mutants_on_path() -> Iterator[None]:
    sys.path.insert(0, str(MUTANTS_DIR.parent))
    try:
        yield
    finally:
        sys.path.remove(str(MUTANTS_DIR.parent))


@pytest.mark.parametrize(
    ("program", "mutant"), [(p, m) for p, mutants in KILLS.items() for m in mutants]
)
def test_program_fails_on_mutant(mutants_on_path: None, program: str, mutant: str) -> None:
    module = importlib.import_module(f"mutants.{mutant}")
    with pytest.raises(Exception):  # noqa: B017 (a ConformanceFailure or the mutant's own error)
        programs.run(program, module)


def rollout(n_envs: int = 2, n_steps: int = 14) -> tuple[EnvRecorder, Any]:
    """A correct reference rollout of recorded CartPole envs with autoreset, random actions."""
    recorder = EnvRecorder()
    env_agent = impl.ParallelGymAgent(
        partial(impl.make_env, autoreset=True, **recorder.env("CartPole-v1")), n_envs
    ).seed(3)
    course = programs.Course.of(impl)
    agent = impl.TemporalAgent(impl.Agents(env_agent, course.RandomAgent(2)))
    ws = impl.Workspace()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        agent(ws, t=0, n_steps=n_steps)
    return recorder, ws


def corrupted(ws: Any, name: str, change: Callable[[torch.Tensor], None]) -> Any:
    """A copy of ``ws`` whose variable ``name`` went through ``change`` (in place)."""
    out = impl.Workspace()
    for key in sorted(ws.keys()):
        value = ws[key].clone()
        if key == name:
            change(value)
        out.set_full(key, value)
    return out


def test_check_rows_accepts_a_correct_rollout() -> None:
    recorder, ws = rollout()
    recorder.check_rows(ws, autoreset=True, first_row=0, setting="correct", repro="")


def _set(index: tuple[int, ...], value: float) -> Callable[[torch.Tensor], None]:
    def change(tensor: torch.Tensor) -> None:
        tensor[index] = value

    return change


def _swap_envs(tensor: torch.Tensor) -> None:
    tensor[3] = tensor[3].flip(0)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        pytest.param("env/reward", _set((3, 1), 7.0), id="reward"),
        pytest.param("env/cumulated_reward", _set((4, 0), 99.0), id="cumulated-reward"),
        pytest.param("env/timestep", _set((5, 0), 42), id="timestep"),
        pytest.param("env/env_obs", _swap_envs, id="obs-of-two-envs-swapped"),
        pytest.param("env/terminated", _set((2, 1), True), id="terminated"),
        pytest.param("action", _set((2, 0), 5), id="action-not-the-one-sent"),
    ],
)
def test_check_rows_names_a_corrupted_row(
    name: str, change: Callable[[torch.Tensor], None]
) -> None:
    recorder, ws = rollout()
    bad = corrupted(ws, name, change)
    with pytest.raises(ConformanceFailure) as failure:
        recorder.check_rows(bad, autoreset=True, first_row=0, setting="corrupted", repro="")
    assert failure.value.clause_id in ("ENV-3", "ENV-4", "ENV-6")


def test_check_rows_counts_rows_against_events() -> None:
    recorder, ws = rollout()
    shorter = impl.Workspace()
    for key in sorted(ws.keys()):
        shorter.set_full(key, ws[key][:-1].clone())
    with pytest.raises(ConformanceFailure):
        recorder.check_rows(shorter, autoreset=True, first_row=0, setting="short", repro="")


class _Reversed:
    """A workspace answering ws[a, b] with the tensors in reverse order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.ws[key]
        return tuple(reversed([self.ws[k] for k in key]))


def test_several_names_checks_the_order() -> None:
    _, ws = rollout()
    reader = _Reversed(ws)
    with pytest.raises(ConformanceFailure):
        programs.several(reader, "env/reward", "env/done", what="reversed", repro="")


def test_program_agents_pickle_by_name() -> None:
    """bbrl's save_model pickles the whole agent: the programs' classes must be importable."""
    critic = programs.Course.of(impl).DiscreteQAgent(4, [8], 2, name="critic")
    clone = pickle.loads(pickle.dumps(critic))
    assert type(clone) is type(critic)
