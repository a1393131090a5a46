"""Smoke tests of the examples: the notebook example and a few hundred steps of DQN and A2C.

The full training runs (targets in examples/README.md) are a nox session, not tests.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module", autouse=True)
def _optimizer_import() -> None:
    """The first torch optimizer imports torch._dynamo (seconds on a busy machine): pay it once
    here, in setup, so each test's own time is what the test does."""
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


@pytest.fixture(autouse=True)
def _examples_on_path() -> Iterator[None]:
    """The scripts import their shared `_common` module as a sibling, as `python script` does;
    one torch thread, as the scripts use (tiny networks)."""
    sys.path.insert(0, str(EXAMPLES))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))
        torch.set_num_threads(threads)


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def test_notebook_example_runs_and_answers_the_exercise(capsys: pytest.CaptureFixture[str]) -> None:
    notebook = load("multi_env_autoreset")
    assert notebook.main() == 0
    out = capsys.readouterr().out
    assert "consistent: True" in out
    assert "time_size() = 15" in out  # the stale-rows demonstration


@pytest.mark.parametrize(("n_envs", "epoch_size", "n_epochs"), [(2, 100, 10), (3, 9, 12)])
def test_exercise_counts_agree(n_envs: int, epoch_size: int, n_epochs: int) -> None:
    counts = load("multi_env_autoreset").exercise(n_envs, epoch_size, n_epochs, verbose=False)
    assert len(counts.episodes_per_env) == n_envs
    assert sum(counts.episodes_per_env) == counts.episodes_from_dones
    # Always pushing right ends a CartPole episode within a few dozen steps.
    assert min(counts.episodes_per_env) >= (epoch_size * n_epochs) // 60
    # Method 2 misses only the episodes that end in the very last row (no pair dropped yet).
    assert counts.episodes_from_buffer + counts.last_row_dones == counts.episodes_from_dones
    assert counts.env_steps == n_envs * (epoch_size - 1 + (n_epochs - 1) * epoch_size)


def check_run(result: Any) -> None:
    losses = result.losses
    assert len(losses) > 0
    assert all(math.isfinite(v) for v in losses), losses
    assert result.params_changed
    assert result.episodes > 0
    assert result.eval_returns
    assert all(1.0 <= v <= 500.0 for v in result.eval_returns)


def test_dqn_smoke() -> None:
    dqn = load("dqn_cartpole")
    cfg = dqn.DQNConfig(
        steps=600,
        num_envs=4,
        epoch_steps=16,
        hidden=32,
        batch_size=32,
        learning_starts=200,
        grad_steps_per_epoch=8,
        target_every=16,
        eps_decay_steps=300,
        eval_every=300,
        eval_envs=2,
    )
    result = dqn.train(cfg, seed=1, quiet=True)
    check_run(result)
    assert result.env_steps[-1] >= 600


def test_a2c_smoke() -> None:
    a2c = load("a2c_cartpole")
    cfg = a2c.A2CConfig(
        steps=600, num_envs=4, epoch_steps=16, hidden=32, eval_every=300, eval_envs=2
    )
    result = a2c.train(cfg, seed=1, quiet=True)
    check_run(result)
    assert result.env_steps[-1] >= 600


def test_cli_writes_summary(tmp_path: Path) -> None:
    a2c = load("a2c_cartpole")
    argv = shlex.split("--seeds 0 1 --steps 300 --eval-every 150 --eval-envs 2 --quiet --no-plot")
    argv += ["--out", str(tmp_path), "--hp", "hidden=16", "num_envs=2"]
    assert a2c.main(argv) == 0
    summary = json.loads((tmp_path / "a2c_summary.json").read_text())
    assert [run["seed"] for run in summary["runs"]] == [0, 1]
    assert summary["config"]["hidden"] == 16 and summary["config"]["num_envs"] == 2
    assert all(run["all_losses_finite"] for run in summary["runs"])
    assert not (tmp_path / "a2c_curve.png").exists()


@pytest.mark.parametrize("backend", ["vector", "async"])
def test_cli_backend_flag(tmp_path: Path, backend: str) -> None:
    """--backend selects the training env agent's backend; the run and its summary work."""
    dqn = load("dqn_cartpole")
    argv = shlex.split("--seed 0 --steps 300 --eval-every 300 --eval-envs 2 --quiet --no-plot")
    argv += ["--backend", backend, "--out", str(tmp_path), "--hp", "num_envs=2", "hidden=16"]
    argv += ["learning_starts=100", "grad_steps_per_epoch=2"]
    assert dqn.main(argv) == 0
    summary = json.loads((tmp_path / "dqn_summary.json").read_text())
    assert summary["config"]["backend"] == backend
    assert all(run["all_losses_finite"] for run in summary["runs"])


def test_learning_curve_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is in the 'examples' dependency group")
    common = load("_common")
    runs = [common.RunResult("dqn", seed) for seed in (0, 1)]
    for k, run in enumerate(runs):
        for steps in (0, 1000, 2000):
            run.record_eval(steps, 100.0 * k + steps / 10)
    common.plot_curves(tmp_path / "curve.png", "dqn", runs)
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
