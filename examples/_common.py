"""Code shared by the training examples: CLI, seeding, evaluation, progress lines, results.

Only torch, numpy, gymnasium and bbrl_reference are imported here; matplotlib is imported
lazily inside `plot_curves`, so training without plotting needs no matplotlib.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from bbrl_reference import Agent, Agents, ParallelGymAgent, TemporalAgent, Workspace, make_env
from torch import nn

ENV_NAME = "CartPole-v1"
TARGET_RETURN = 400.0
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
#: the env agent backends of the reference (ParallelGymAgent(..., backend=...))
BACKENDS = ("sync", "async", "vector")
C = TypeVar("C", bound=Any)


def build_parser(description: str, default_steps: int) -> argparse.ArgumentParser:
    """The CLI both training scripts share."""
    parser = argparse.ArgumentParser(description=description)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--seed", type=int, default=0, help="one seed (default 0)")
    group.add_argument("--seeds", type=int, nargs="+", help="several seeds, run one after another")
    parser.add_argument(
        "--steps", type=int, default=default_steps, help=f"env steps per run ({default_steps})"
    )
    parser.add_argument("--eval-every", type=int, default=5_000, help="env steps between evals")
    parser.add_argument("--eval-envs", type=int, default=10, help="episodes per evaluation")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--no-plot", action="store_true", help="skip the learning-curve PNG")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--hp", nargs="*", default=[], metavar="NAME=VALUE", help="override a hyper-parameter"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="sync",
        help="how the training env agent steps its envs: a loop (sync, default), worker "
        "processes (async) or gymnasium's native CartPole vector env (vector)",
    )
    return parser


def apply_overrides(config: C, overrides: list[str]) -> C:
    """A copy of the dataclass `config` with `NAME=VALUE` overrides (typed like the field)."""
    changes: dict[str, object] = {}
    for item in overrides:
        name, sep, value = item.partition("=")
        current = getattr(config, name, None)
        if not sep or current is None:
            raise SystemExit(
                f"--hp: expected NAME=VALUE with NAME a field of {config!r}, got {item!r}"
            )
        if isinstance(current, bool):
            changes[name] = value.lower() in ("1", "true", "yes")
        else:
            changes[name] = type(current)(value)
    return dataclasses.replace(config, **changes)


def seeds_of(args: argparse.Namespace) -> list[int]:
    """The seeds to run: --seeds if given, else [--seed]."""
    return list(args.seeds) if args.seeds else [int(args.seed)]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (the env agents are seeded separately)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """A plain MLP: Linear layers with `activation` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def train_env_agent(num_envs: int, seed: int, backend: str = "sync") -> ParallelGymAgent:
    """The training env agent, in the notebook's style (autoreset, next-step layout), on
    ``backend`` (one of :data:`BACKENDS`). Close it when done (worker processes)."""
    if backend not in BACKENDS:
        raise SystemExit(f"backend: expected one of {BACKENDS}, got {backend!r}")
    factory = partial(make_env, env_name=ENV_NAME, autoreset=True)
    return ParallelGymAgent(factory, num_envs, backend=backend).seed(seed)  # type: ignore[arg-type]


class Evaluator:
    """Greedy evaluation: a separate env agent without autoreset, run until every env is done."""

    def __init__(self, policy: Agent, num_envs: int, seed: int) -> None:
        env_agent = ParallelGymAgent(
            partial(make_env, env_name=ENV_NAME, autoreset=False), num_envs
        ).seed(seed)
        self.t_agent = TemporalAgent(Agents(env_agent, policy))

    @torch.no_grad()
    def __call__(self) -> float:
        """Mean return of one episode per eval env (a fresh workspace per evaluation)."""
        workspace = Workspace()
        self.t_agent(workspace, t=0, stop_variable="env/done", stochastic=False, epsilon=0.0)
        return float(workspace["env/cumulated_reward"][-1].mean())


def episode_stats(workspace: Workspace, first_row: int) -> tuple[int, list[float]]:
    """Episodes that ended in rows `first_row..T-1` and their returns.

    With the copy_n_last_steps(1) epoch loop, row 0 of every epoch after the first is a copy of
    the previous epoch's last row, so counting from row 1 counts each episode exactly once.
    """
    done = workspace["env/done"][first_row:]
    returns = workspace["env/cumulated_reward"][first_row:][done]
    return int(done.sum()), [float(r) for r in returns]


@dataclass
class RunResult:
    """What one training run produced (the JSON summary keeps all but the loss history)."""

    algo: str
    seed: int
    env_steps: list[int] = field(default_factory=list)
    eval_returns: list[float] = field(default_factory=list)
    steps_to_target: int | None = None
    wall_s: float = 0.0
    episodes: int = 0
    losses: list[float] = field(default_factory=list)
    params_changed: bool = False

    def record_eval(self, steps: int, value: float) -> None:
        """Add an evaluation point; note the first one reaching the target."""
        self.env_steps.append(steps)
        self.eval_returns.append(value)
        if self.steps_to_target is None and value >= TARGET_RETURN:
            self.steps_to_target = steps

    def summary(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("losses")
        data["wall_s"] = round(self.wall_s, 1)
        data["eval_returns"] = [round(v, 1) for v in self.eval_returns]
        data["all_losses_finite"] = all(math.isfinite(v) for v in self.losses)
        return data


def flat_params(module: nn.Module) -> torch.Tensor:
    """A detached copy of all parameters, to check that training changed them."""
    return torch.cat([p.detach().flatten() for p in module.parameters()]).clone()


class Progress:
    """Periodic progress lines: steps, episodes, recent mean training return, eval, wall time."""

    def __init__(self, label: str, total_steps: int, every_s: float = 5.0, quiet: bool = False):
        self.label = label
        self.total = total_steps
        self.every_s = every_s
        self.quiet = quiet
        self.start = time.perf_counter()
        self.last = -math.inf
        self.recent: list[float] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def update(
        self,
        steps: int,
        episodes: int,
        returns: list[float],
        last_eval: float | None,
        force: bool = False,
    ) -> None:
        self.recent = (self.recent + returns)[-20:]
        now = self.elapsed()
        if self.quiet or (not force and now - self.last < self.every_s):
            return
        self.last = now
        mean = f"{np.mean(self.recent):6.1f}" if self.recent else "   n/a"
        ev = f"{last_eval:6.1f}" if last_eval is not None else "   n/a"
        print(
            f"[{self.label}] steps {steps:>7}/{self.total} | episodes {episodes:>5} | "
            f"train return (last 20) {mean} | eval {ev} | {now:6.1f}s",
            flush=True,
        )


def write_outputs(
    out: Path, algo: str, config: dict[str, object], results: list[RunResult], plot: bool
) -> Path:
    """Write `<algo>_summary.json` (and `<algo>_curve.png`) under `out`; return the JSON path."""
    out.mkdir(parents=True, exist_ok=True)
    reached = [r for r in results if r.steps_to_target is not None]
    summary = {
        "algo": algo,
        "env": ENV_NAME,
        "target_return": TARGET_RETURN,
        "config": config,
        "seeds_reaching_target": f"{len(reached)}/{len(results)}",
        "runs": [r.summary() for r in results],
    }
    path = out / f"{algo}_summary.json"
    path.write_text(json.dumps(summary, indent=1) + "\n")
    if plot:
        plot_curves(out / f"{algo}_curve.png", algo, results)
    return path


def plot_curves(path: Path, algo: str, results: list[RunResult]) -> None:
    """Eval return vs env steps: mean over seeds, min-max band, thin line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid_end = min(r.env_steps[-1] for r in results)
    grid = np.linspace(0, grid_end, 200)
    curves = np.stack([np.interp(grid, r.env_steps, r.eval_returns) for r in results])
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for r in results:
        ax.plot(r.env_steps, r.eval_returns, lw=0.6, alpha=0.5)
    ax.plot(grid, curves.mean(axis=0), color="black", lw=2, label=f"mean of {len(results)} seeds")
    ax.fill_between(
        grid,
        curves.min(axis=0),
        curves.max(axis=0),
        color="gray",
        alpha=0.25,
        label="min-max over seeds",
    )
    ax.axhline(TARGET_RETURN, color="red", ls="--", lw=1, label=f"target {TARGET_RETURN:.0f}")
    ax.set_xlabel("env steps")
    ax.set_ylabel("greedy eval return")
    ax.set_title(f"{algo.upper()} on {ENV_NAME} (bbrl_reference)")
    ax.set_ylim(0, 520)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
