"""Long runs (issue #11 item 6): memory growth and lost transitions over a million env steps.

    python benchmarks/long_run.py [--impl MODULE] [--env-steps N] [--buffer-size N] [--json FILE]

Two runs, each reported with the resident memory (RSS) of the process along the way:

* **epoch loop**: notebook 03's loop (``t=0`` first, then ``zero_grad()``,
  ``copy_n_last_steps(1)`` and a run from ``t=1``) on ``ParallelGymAgent`` over CartPole-v1
  with a random policy, until ``--env-steps`` env steps (default 1e6) have been taken; every
  epoch's ``get_transitions()`` goes into a ``ReplayBuffer`` of ``env_steps // 20`` items
  (full after about 5% of the run, so that memory growth after the first tenth is not data).
  A wrapper inside each env counts the env's own ``step`` calls (autoreset calls ``reset``,
  not ``step``), so the number of
  transitions kept must equal the number of steps the envs took: nothing lost, nothing
  duplicated across epochs.
* **buffer**: a ``ReplayBuffer(--buffer-size)`` (default 1e6) filled three times over with
  items numbered 0, 1, ...; afterwards it must hold exactly the last ``--buffer-size`` numbers.

This is a benchmark, not a test: it asserts nothing about time. It exits 1 when a count is
wrong (a correctness failure), and prints the memory figures; the numbers in README.md's
reliability section come from it. The test command runs it at toy sizes
(``tests/test_long_run.py``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import gymnasium as gym
import torch

MIB = 1024 * 1024


def rss_bytes() -> int:
    """The process' resident memory now (Linux ``/proc``), else its peak (``getrusage``)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return pages * resource.getpagesize()


class StepCounter(gym.Wrapper[Any, Any, Any, Any]):
    """Counts the env's own ``step`` calls in a shared list (one slot per env)."""

    def __init__(self, env: gym.Env[Any, Any], counts: list[int]) -> None:
        super().__init__(env)
        self._counts = counts
        self._slot = len(counts)
        counts.append(0)

    def step(self, action: Any) -> Any:
        self._counts[self._slot] += 1
        return super().step(action)


@dataclass
class RunReport:
    name: str
    #: index in ``rss_mib`` from which growth is measured (the buffer is full by then)
    warm: int
    seconds: float = 0.0
    rss_mib: list[float] = field(default_factory=list)  # at 0%, 10%, ..., 100%
    counts: dict[str, int] = field(default_factory=dict)
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def growth_mib(self) -> float:
        """RSS at the end minus RSS once the buffer is full (allocations that stay)."""
        return self.rss_mib[-1] - self.rss_mib[min(self.warm, len(self.rss_mib) - 1)]

    def check(self, what: str, got: int, expected: int) -> None:
        self.counts[what] = got
        if got != expected:
            self.ok = False
            self.problems.append(f"{what}: {got}, expected {expected}")


def epoch_loop(
    impl: ModuleType, env_steps: int, num_envs: int, n_steps: int, seed: int
) -> RunReport:
    report = RunReport("epoch loop", warm=1)
    counts: list[int] = []

    def make(env_name: str, autoreset: bool) -> Any:
        return impl.make_env(
            env_name, autoreset=autoreset, wrappers=[partial(StepCounter, counts=counts)]
        )

    class RandomPolicy(impl.Agent):  # type: ignore[name-defined,misc]
        def forward(self, t: int, **kwargs: Any) -> None:
            self.set(("action", t), torch.randint(0, 2, (num_envs,)))

    env_agent = impl.ParallelGymAgent(
        partial(make, env_name="CartPole-v1", autoreset=True), num_envs
    ).seed(seed)
    t_agent = impl.TemporalAgent(impl.Agents(env_agent, RandomPolicy()))
    capacity = max(1, env_steps // 20)  # full after about 5% of the run
    buffer = impl.ReplayBuffer(max_size=capacity)
    workspace = impl.Workspace()
    torch.manual_seed(seed)
    epochs = max(1, env_steps // ((n_steps - 1) * num_envs))
    marks = {round(epochs * k / 10) for k in range(11)}
    kept = 0
    start = time.perf_counter()
    for epoch in range(epochs):
        if epoch > 0:
            workspace.zero_grad()
            workspace.copy_n_last_steps(1)
            t_agent(workspace, t=1, n_steps=n_steps - 1)
        else:
            t_agent(workspace, t=0, n_steps=n_steps)
        transitions = workspace.get_transitions()
        kept += int(transitions["env/done"].shape[1])
        buffer.put(transitions)
        if epoch in marks:
            report.rss_mib.append(rss_bytes() / MIB)
            print(f"  epoch loop: {epoch}/{epochs} epochs, rss {report.rss_mib[-1]:.0f} MiB")
    report.rss_mib.append(rss_bytes() / MIB)
    report.seconds = time.perf_counter() - start
    stepped = sum(counts)
    report.counts["env steps (rows written after the first)"] = epochs * (n_steps - 1) * num_envs
    report.check("transitions kept == env.step calls", kept, stepped)
    report.check("buffer size", int(buffer.size()), min(kept, capacity))
    close = getattr(env_agent, "close", None)
    if callable(close):
        close()
    return report


def buffer_fill(impl: ModuleType, size: int, chunk: int) -> RunReport:
    report = RunReport("buffer filled 3x", warm=4)  # 40%: after the first fill
    buffer = impl.ReplayBuffer(max_size=size)
    total = 3 * size
    marks = {round(total / chunk * k / 10) for k in range(11)}
    start = time.perf_counter()
    for k, first in enumerate(range(0, total, chunk)):
        ids = torch.arange(first, min(first + chunk, total))
        items = impl.Workspace()
        items.set_full("id", torch.stack([ids, ids]))
        items.set_full("obs", torch.stack([ids, ids + 1]).float().unsqueeze(-1).expand(-1, -1, 4))
        buffer.put(items)
        if k in marks:
            report.rss_mib.append(rss_bytes() / MIB)
            print(f"  buffer: {first + len(ids)}/{total} put, rss {report.rss_mib[-1]:.0f} MiB")
    report.rss_mib.append(rss_bytes() / MIB)
    report.seconds = time.perf_counter() - start
    report.check("buffer size", int(buffer.size()), size)
    if not callable(getattr(buffer, "state_dict", None)):  # bbrl 1.0.1 has none
        report.problems.append("content not checked: the buffer has no state_dict()")
        return report
    held = buffer.state_dict()["variables"]["id"][:, 0]
    recent = torch.isin(held, torch.arange(total - size, total))
    report.check("items held among the last max_size put", int(recent.sum()), size)
    report.check("distinct items held", int(torch.unique(held).numel()), size)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default="bbrl_reference")
    parser.add_argument("--env-steps", type=int, default=1_000_000)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--n-steps", type=int, default=65, help="rows per epoch (T)")
    parser.add_argument("--buffer-size", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="items per buffer put")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results there")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    impl = importlib.import_module(args.impl)
    print(f"long runs of {args.impl}, torch {torch.__version__}, rss {rss_bytes() / MIB:.0f} MiB")
    runs: list[Callable[[], RunReport]] = [
        lambda: epoch_loop(impl, args.env_steps, args.num_envs, args.n_steps, args.seed),
        lambda: buffer_fill(impl, args.buffer_size, args.chunk),
    ]
    reports = []
    for run in runs:
        report = run()
        reports.append(report)
        print(
            f"{report.name}: {report.seconds:.1f} s; rss {report.rss_mib[0]:.0f} -> "
            f"{report.rss_mib[-1]:.0f} MiB, growth once the buffer is full "
            f"{report.growth_mib:+.1f} MiB; {report.counts}"
            + ("" if report.ok else "; WRONG")
            + "".join(f"; {p}" for p in report.problems)
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = {"impl": args.impl, "args": {k: str(v) for k, v in vars(args).items()}}
        data["runs"] = [asdict(r) | {"growth_mib": r.growth_mib} for r in reports]
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
