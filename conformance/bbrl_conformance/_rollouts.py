"""Helpers of the env agent tests: rollouts over the counting env, row and action checks
against the model (``CountingPlan.simulate``), and process and time guards for worker backends.

Nothing here imports the implementation; ``impl`` and the declared ``backend`` are passed in.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from bbrl_conformance._assertions import expect, expect_equal_tensors
from bbrl_conformance._backends import Backend
from bbrl_conformance.counting_env import (
    ActionKind,
    CountingPlan,
    Fault,
    ObsKind,
    Row,
    action_agent,
    close_agent,
    expected_actions,
    rollout_source,
)

#: name -> (trailing shape, dtype) for the float obs of the counting env (spec table).
TABLE: dict[str, tuple[tuple[int, ...], torch.dtype]] = {
    "env/env_obs": ((3,), torch.float32),
    "env/reward": ((), torch.float32),
    "env/terminated": ((), torch.bool),
    "env/truncated": ((), torch.bool),
    "env/done": ((), torch.bool),
    "env/cumulated_reward": ((), torch.float32),
    "env/timestep": ((), torch.int64),
}

#: The longest a call may take in a test that checks it never waits without end (ENV-24..26):
#: generous, for a loaded CI machine; a call still running then fails the test.
DEADLINE_S = 90.0


class Rollout:
    """An env agent of ``backend`` over a counting plan, chained with the counting action
    agent. ``columns`` is the env id in each batch column, known once a rollout has run."""

    def __init__(
        self,
        impl: Any,
        backend: Backend,
        plan: CountingPlan,
        stack: contextlib.ExitStack,
        *,
        autoreset: bool,
        **kwargs: Any,
    ) -> None:
        self.impl = impl
        self.backend = backend
        self.plan = plan
        self.autoreset = autoreset
        self.env_agent = backend.agent(
            impl, plan.factory(impl, autoreset=autoreset), plan.num_envs, **kwargs
        )
        stack.callback(close_agent, self.env_agent)
        self.t_agent = impl.TemporalAgent(
            impl.Agents(self.env_agent, action_agent(impl, plan.num_envs, plan.action_kind))
        )
        self.columns: list[int] = list(range(plan.num_envs))

    def run(self, n_steps: int, ws: Any = None, **kwargs: Any) -> Any:
        ws = self.impl.Workspace() if ws is None else ws
        self.t_agent(ws, t=0, n_steps=n_steps, **kwargs)
        return ws

    def repro(self, n_steps: int) -> str:
        return rollout_source(
            self.plan, autoreset=self.autoreset, n_steps=n_steps, backend=self.backend.source()
        )


@contextlib.contextmanager
def counting(
    impl: Any,
    backend: Backend,
    lengths: Sequence[int | Sequence[int]],
    *,
    autoreset: bool,
    truncated: bool | Sequence[bool] = False,
    obs_kind: ObsKind = "float",
    action_kind: ActionKind = "discrete",
    faults: dict[tuple[int, int, int], Fault] | None = None,
    noisy_resets: bool = False,
    vector_reward_dtype: str = "float64",
    nonfinite_rewards: bool = False,
    **kwargs: Any,
) -> Iterator[Rollout]:
    """A Rollout over a fresh plan (``CountingPlan``'s arguments; ``kwargs`` go to the agent);
    the agent and the envs are closed afterwards."""
    with contextlib.ExitStack() as stack:
        plan = stack.enter_context(
            CountingPlan(
                lengths,
                truncated=truncated,
                obs_kind=obs_kind,
                action_kind=action_kind,
                faults=faults,
                noisy_resets=noisy_resets,
                vector_reward_dtype=vector_reward_dtype,
                nonfinite_rewards=nonfinite_rewards,
            )
        )
        yield Rollout(impl, backend, plan, stack, autoreset=autoreset, **kwargs)


_IN_PROCESS: dict[tuple[str, str], bool] = {}


def in_process(impl: Any, backend: Backend) -> bool:
    """Whether ``backend`` builds and steps its envs in this process (read from the counting
    env's logs after one call at t=0), cached per implementation and backend."""
    key = (str(getattr(impl, "module_name", impl)), backend.name)
    if key not in _IN_PROCESS:
        with counting(impl, backend, [2], autoreset=True) as rollout:
            rollout.env_agent(impl.Workspace(), t=0)
            _IN_PROCESS[key] = rollout.plan.in_process()
    return _IN_PROCESS[key]


def examples_for(impl: Any, backend: Backend) -> int:
    """Hypothesis examples of a rollout property test: the profile's, or a third of them (at
    least 5) for a backend with worker processes, whose agents cost a process start each."""
    from hypothesis import settings

    examples: int = settings().max_examples  # the loaded profile's
    return examples if in_process(impl, backend) else max(5, examples // 3)


def refused_by_vector(backend: Backend, build: Callable[[], Any], what: str, repro: str) -> bool:
    """For a vector backend (ENV-17), build an agent with an option it may refuse: True when it
    refused it with ValueError at construction (ENV-18), False when it accepted it (the caller
    then checks it honours it). Other backends are never allowed to refuse: always False."""
    __tracebackhide__ = True
    if not backend.vector:
        return False
    try:
        agent = build()
    except ValueError:
        return True
    except Exception as exc:
        expect(
            False,
            "ENV-18",
            f"vector backend {backend.name!r} with {what}: raised {type(exc).__name__}: {exc}; "
            "an option a vector backend cannot honour must raise ValueError when the agent is "
            "built",
            repro,
        )
    close_agent(agent)
    return False


def full(ws: Any, name: str, clause_id: str, repro: str) -> torch.Tensor:
    """``ws.get_full(name)``, failing ``clause_id`` if the variable is missing."""
    __tracebackhide__ = True
    keys = sorted(ws.keys())
    expect(name in keys, clause_id, f"variable {name!r} not written; keys are {keys}", repro)
    value = ws.get_full(name)
    expect(
        isinstance(value, torch.Tensor),
        clause_id,
        f"ws.get_full({name!r}) returned {type(value)}",
        repro,
    )
    return value  # type: ignore[no-any-return]


def env_ids_in_row0(ws: Any, kind: ObsKind, num_envs: int, repro: str) -> list[int]:
    """The env id that each batch column shows at row 0 (from the observation encoding)."""
    __tracebackhide__ = True
    if kind == "dict":
        ids = full(ws, "env/env_obs/ids", "ENV-13", repro)[0, :, 0]
    else:
        obs = full(ws, "env/env_obs", "ENV-13", repro)[0]
        if kind == "discrete":
            ids = obs // 10_000
        elif kind == "bool":  # parities only: enough for two envs
            if num_envs > 2:
                raise ValueError("env_ids_in_row0: bool observations tell apart 2 envs at most")
            ids = obs[:, 0].long()
        else:
            ids = obs[:, 0]
    return [int(v) for v in ids.tolist()]


def find_columns(ws: Any, rollout: Rollout, repro: str) -> list[int]:
    """Env id of each batch column: the b-th env built for envs built in this process (ENV-1),
    a permutation read from row 0 for envs built in worker processes (ENV-13)."""
    __tracebackhide__ = True
    plan = rollout.plan
    n = plan.num_envs
    if plan.in_process():
        columns = list(range(n))
    else:
        columns = env_ids_in_row0(ws, plan.obs_kind, n, repro)
        expect(
            sorted(columns) == list(range(n)),
            "ENV-13",
            f"with worker processes, row 0 of env/env_obs shows the env ids {columns} by batch "
            f"column, which is not one column per env of the {n} envs built",
            repro,
        )
    rollout.columns = columns
    return columns


def row_kind(rows: Sequence[Row], t: int, autoreset: bool) -> tuple[str, str]:
    """(clause, description) of row ``t`` of one env."""
    row = rows[t]
    if t == 0:
        return "ENV-3", "first row of the rollout (reset)"
    if rows[t - 1].done:
        if autoreset:
            return "ENV-6", f"first row of episode {row.episode}, after the done row t={t - 1}"
        return "ENV-7", "frozen copy of the done row (autoreset=False), reward 0"
    if row.done and autoreset:
        return "ENV-5", f"done row: last step {row.step} of episode {row.episode}"
    return "ENV-4", f"step {row.step} of episode {row.episode}"


def expected_values(rows: Sequence[Row], t: int, env_id: int) -> dict[str, torch.Tensor]:
    row = rows[t]
    return {
        "env/env_obs": torch.tensor([env_id, row.episode, row.step], dtype=torch.float32),
        "env/reward": torch.tensor(row.reward, dtype=torch.float32),
        "env/terminated": torch.tensor(row.terminated),
        "env/truncated": torch.tensor(row.truncated),
        "env/done": torch.tensor(row.done),
        "env/cumulated_reward": torch.tensor(row.cumulated_reward, dtype=torch.float32),
        "env/timestep": torch.tensor(row.timestep, dtype=torch.int64),
    }


def check_rows(
    ws: Any,
    rollout: Rollout,
    n_rows: int,
    repro: str,
    *,
    first_episodes: Sequence[int] | None = None,
    clause_id: str | None = None,
) -> list[list[Row]]:
    """Every row of every env against the model; returns the model rows per batch column.

    ``first_episodes[env_id]`` is the episode each env starts in (0 by default); ``clause_id``
    replaces the per-row clause (ENV-3..ENV-7) when given (used by ENV-8).
    """
    __tracebackhide__ = True
    plan = rollout.plan
    num_envs = plan.num_envs
    setting = f"backend {rollout.backend.name!r}, autoreset={rollout.autoreset}, "
    setting += f"lengths={plan.lengths_spec()}"
    if any(plan.truncated):
        setting += f", truncated={list(plan.truncated)}"
    if plan.nonfinite_rewards:
        setting += ", nonfinite_rewards=True"
    tensors: dict[str, torch.Tensor] = {}
    for name, (shape, dtype) in TABLE.items():
        value = full(ws, name, clause_id or "ENV-2", repro)
        expect(
            tuple(value.shape) == (n_rows, num_envs, *shape) and value.dtype == dtype,
            clause_id or "ENV-2",
            f"{n_rows}-step rollout of {num_envs} envs ({setting}): ws.get_full({name!r}) has "
            f"shape {tuple(value.shape)} dtype {value.dtype}, expected shape "
            f"{(n_rows, num_envs, *shape)} dtype {dtype}",
            repro,
        )
        tensors[name] = value
    columns = find_columns(ws, rollout, repro)
    all_rows = []
    for b, env_id in enumerate(columns):
        first = 0 if first_episodes is None else first_episodes[env_id]
        rows = plan.simulate(env_id, n_rows, autoreset=rollout.autoreset, first_episode=first)
        all_rows.append(rows)
        for t in range(n_rows):
            kind, description = row_kind(rows, t, rollout.autoreset)
            for name, want in expected_values(rows, t, env_id).items():
                got = tensors[name][t, b]
                expect_equal_tensors(
                    got,
                    want,
                    clause_id or kind,
                    f"{n_rows}-step rollout ({setting}): row t={t}, env b={b} (env id {env_id}), "
                    f"{name}: got {got.tolist()}, expected {want.tolist()} [{description}; obs "
                    f"is (env, episode, step)]" + (f" (row rule {kind})" if clause_id else ""),
                    repro,
                    nan_equal=True,  # a NaN reward is expected back as NaN (ENV-35); 0 is not NaN
                )
    return all_rows


def check_actions(
    rollout: Rollout,
    all_rows: Sequence[Sequence[Row]],
    repro: str,
    *,
    log_start: Sequence[int] | None = None,
    clause_id: str | None = None,
) -> None:
    """Each env consumed exactly the actions of its non-done rows, except the last row's.

    ``all_rows[b]`` are the model rows of batch column ``b`` (from :func:`check_rows`);
    ``log_start[env_id]`` is how many log entries to skip.
    """
    __tracebackhide__ = True
    plan = rollout.plan
    records = {record.env_id: record for record in plan.envs}
    for b, rows in enumerate(all_rows):
        env_id = rollout.columns[b]
        start = 0 if log_start is None else log_start[env_id]
        got = records[env_id].actions[start:] if env_id in records else []
        want = expected_actions(plan, env_id, rows, column=b)
        if got == want:
            continue
        done_rows = [t for t, row in enumerate(rows) if row.done]
        extra = [entry for entry in got if entry not in want]
        if not rollout.autoreset:
            kind = "ENV-7"
        elif any(e[:2] == (rows[t].episode, rows[t].step) for e in extra for t in done_rows):
            kind = "ENV-6"
        else:
            kind = "ENV-4"
        formula = "1000*b + t" if plan.action_kind == "discrete" else "(b + t/4, -t/8)"
        expect(
            False,
            clause_id or kind,
            f"backend {rollout.backend.name!r}: env b={b} (env id {env_id}) consumed (episode, "
            f"step_before, action) = {got}\nexpected {want}\n(action[t, b] = {formula}"
            f"; done rows t={done_rows}, whose actions must not be sent; extra {extra}, "
            f"missing {[entry for entry in want if entry not in got]})",
            repro,
        )


def log_lengths(plan: CountingPlan) -> list[int]:
    """How many actions each env id has consumed so far (by env id)."""
    return [len(record.actions) for record in plan.envs]


# ------------------------------------------------------------------ processes and time
def child_processes() -> set[int]:
    """The pids of this process's children, exited-but-unreaped ones included (Linux /proc;
    elsewhere the live multiprocessing children)."""
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        import multiprocessing

        return {p.pid for p in multiprocessing.active_children() if p.pid is not None}
    found = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                found.add(int(entry.name))
    return found


#: multiprocessing's shared helper processes, which outlive any one agent
_INFRASTRUCTURE = ("resource_tracker", "forkserver")


def agent_children(baseline: set[int]) -> set[int]:
    """Child processes started since ``baseline``, except multiprocessing's shared helpers."""
    found = set()
    for pid in child_processes() - baseline:
        cmdline = b""
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
        if not any(name.encode() in cmdline for name in _INFRASTRUCTURE):
            found.add(pid)
    return found


class Overdue(BaseException):
    """Raised into the test when a call runs past its deadline (a BaseException, so that an
    implementation's ``except Exception`` cannot swallow it)."""


@contextlib.contextmanager
def alarm(seconds: float, exc: Callable[[], BaseException]) -> Iterator[None]:
    """Raise ``exc()`` in the main thread after ``seconds`` of wall time (SIGALRM); a no-op
    where there is no SIGALRM or outside the main thread."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def fire(signum: int, frame: object) -> None:
        raise exc()

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def within(seconds: float, clause_id: str, what: str, repro: str, call: Callable[[], Any]) -> Any:
    """``call()``, failing ``clause_id`` if it has not returned (or raised) after ``seconds``."""
    __tracebackhide__ = True
    try:
        with alarm(seconds, lambda: Overdue(what)):
            return call()
    except Overdue:
        expect(False, clause_id, f"{what} did not return within {seconds:g} s", repro)
