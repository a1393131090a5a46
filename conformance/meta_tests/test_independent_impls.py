"""The suite demands no more than the spec: four implementations written from spec/ alone, by
helpers who did not read the reference (meta_tests/impls/independent_*.py: a replay buffer, the
agents, a workspace and an env agent), pass every test of their areas' test modules.

A test that fails against one of them demands something the spec leaves open (or the module has
a bug): fix the test, or the spec, or the module, whichever is wrong. Each module runs once, in
a subprocess through ``python -m bbrl_conformance --impl``, as a user would run the suite.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import bbrl_reference
import pytest

META_DIR = Path(__file__).resolve().parent

#: module of meta_tests/impls/ -> (the names it defines itself, the suite's test modules it passes)
INDEPENDENT = {
    "independent_replay_buffer": (
        ["ReplayBuffer"],
        ["test_replay_buffer", "test_replay_buffer_surface", "test_replay_buffer_persistence"],
    ),
    "independent_agents": (
        ["Agent", "Agents", "TemporalAgent", "KWAgentWrapper", "PrintAgent", "EpisodesDone"],
        ["test_agents", "test_agents_surface", "test_agent_utils", "test_stop_variable"],
    ),
    "independent_workspace": (
        ["Workspace"],
        [
            "test_workspace",
            "test_workspace_ops",
            "test_workspace_limits",
            "test_transitions",
            "test_errors",
            "test_error_messages",
            "test_grad_modes",
            "test_surface",
            "test_hostile_inputs",
        ],
    ),
    "independent_env_agent": (
        ["ParallelGymAgent", "make_env"],
        [
            "test_env_agent",
            "test_env_failures",
            "test_env_action_ranks",
            "test_determinism",
            "test_transitions",
            "test_programs",
            "test_epoch_loop",
            "test_errors",
            "test_error_messages",
        ],
    ),
}
#: the outcomes (report.json) of a test that does not fail ("not-claimed": a test of an area the
#: module does not claim, e.g. a replay-buffer case of test_errors for the workspace alone)
PASS_OR_SKIP = ("passed", "skipped", "not-claimed")


@pytest.mark.parametrize("module", sorted(INDEPENDENT))
def test_module_defines_its_own_classes(module: str) -> None:
    """Not the reference's classes, reached through the module's ``__getattr__``."""
    if str(META_DIR) not in sys.path:
        sys.path.insert(0, str(META_DIR))
    impl = importlib.import_module(f"impls.{module}")
    names, _ = INDEPENDENT[module]
    borrowed = [n for n in names if getattr(impl, n) is getattr(bbrl_reference, n)]
    assert borrowed == [], f"impls.{module} takes {borrowed} from the reference"


@pytest.mark.parametrize("module", sorted(INDEPENDENT))
def test_independent_implementation_passes(module: str, tmp_path: Path, suite_runner: Any) -> None:
    _, test_modules = INDEPENDENT[module]
    run = suite_runner(
        [
            "--impl",
            f"impls.{module}",
            "--no-deviations",
            "--",
            "-q",
            "-p",
            "no:randomly",
            *(f"bbrl_conformance.tests.{m}" for m in test_modules),
        ],
        tmp_path,
    )
    assert run.report is not None, f"no report.json was written; output:\n{run.output[-3000:]}"
    tests = run.report["tests"]
    failing = [f"{t['id']} ({t['outcome']})" for t in tests if t["outcome"] not in PASS_OR_SKIP]
    assert failing == [], (
        f"impls.{module} fails tests that the spec may not demand: {failing}\n"
        + "\n".join(line for line in run.output.splitlines() if line.startswith("FAILED"))
    )
    ran = [t["id"] for t in tests if t["outcome"] == "passed"]
    assert ran, f"no test of {test_modules} ran against impls.{module}:\n{run.output[-3000:]}"
    assert run.returncode == 0, (
        f"the run against impls.{module} exited {run.returncode} with no failing test:\n"
        f"{run.output[-3000:]}"
    )
