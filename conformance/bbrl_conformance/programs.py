"""End-to-end programs written the way bbrl's notebooks and course algorithms are.

Each program is a function ``program(impl)`` that runs a small, seeded piece of real-looking
bbrl code against the implementation module ``impl`` (bbrl's call shapes: ``impl.Workspace``,
``impl.Agent``, ``impl.make_env``, ...) and checks what it produced against models written here:
the rows the envs really produced (read from a recording wrapper, see ``_recording.py``), every
transition exactly once, replay-buffer sizes, loss shapes and finiteness, losses and gradients
recomputed without the workspace, target networks, episode returns, saved-and-loaded agents.
A failed check raises :class:`~bbrl_conformance._assertions.ConformanceFailure` naming a clause.

The programs are ours, written in the style of bbrl's notebooks 01-03 and of the course code
built on ``bbrl_utils`` (DQN, DDPG, SAC, PPO with minibatches), not copied from them. They use
only bbrl 1.0.1's public API, including calls that the core spec does not cover yet (issue #10):
:data:`PROGRAMS` lists, for each program, the names beyond the core it calls. ``spec/README.md``
states which programs run unchanged against a conforming implementation.

Run one by hand::

    import bbrl_reference as impl
    from bbrl_conformance import programs
    programs.run("dqn_cartpole", impl)
"""

from __future__ import annotations

import collections
import contextlib
import copy
import io
import itertools
import math
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from gymnasium.wrappers import TimeLimit
from torch import nn

from bbrl_conformance._assertions import expect, expect_equal_tensors
from bbrl_conformance._recording import EnvRecorder, counter_difference, transitions_of

__all__ = ["PROGRAMS", "Program", "run"]

# The checks of calls that the core spec does not cover yet name the closest existing clause;
# each entry says which API the check is about. Once the clauses of issue #10 land, point each
# entry at its own clause (the report of the programs branch lists the intended ones).
CLAUSE_FOR = {
    "several names": "WS-6",  # ws["a", "b"] -> the tensors of ws["a"] and ws["b"]
    "float stop": "TA-2",  # a float stop variable (notebook 01)
    "print agent": "AG-4",  # PrintAgent prints and writes nothing
    "wrappers": "ENV-1",  # make_env(..., wrappers=[...])
    "get_by_name": "AG-5",  # Agent.get_by_name / set_name / with_prefix / Agent(name=...)
    "kw wrapper": "AG-2",  # KWAgentWrapper(agent, **kwargs)
    "select_batch": "TR-2",  # Workspace.select_batch(indices)
    "time window": "WS-6",  # Workspace.get_time_truncated_workspace(from, to)
    "save/load": "AG-5",  # save_model / load_model
    "set_full": "WS-11",  # set_full of a [T, B] variable computed from the rollout
}


@dataclass(frozen=True)
class Program:
    """A registered program: its function, the clauses it checks, and the names it calls beyond
    the core (``Workspace``, ``Agent``, ``Agents``, ``TemporalAgent``, ``ParallelGymAgent``,
    ``make_env``, ``ReplayBuffer`` with the calls spec/ specifies)."""

    name: str
    run: Callable[[Any], None]
    clauses: tuple[str, ...]
    beyond_core: tuple[str, ...]
    summary: str


def _repro(name: str) -> str:
    return f"from bbrl_conformance import programs\nprograms.run({name!r}, impl)\n"


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """torch's global generator seeded for the program, and restored afterwards; one torch
    thread meanwhile (the networks are tiny: threads only add contention)."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def build_mlp(
    sizes: Sequence[int], activation: nn.Module, output: nn.Module | None = None
) -> nn.Sequential:
    """Linear layers of the given sizes, ``activation`` between them, ``output`` at the end."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        last = i == len(sizes) - 2
        layers.append(copy.deepcopy(activation) if not last else (output or nn.Identity()))
    return nn.Sequential(*layers)


def soft_update(source: nn.Module, target: nn.Module, tau: float) -> None:
    """``target <- tau * source + (1 - tau) * target``, parameter by parameter."""
    with torch.no_grad():
        for p, q in zip(source.parameters(), target.parameters(), strict=True):
            q.mul_(1 - tau).add_(tau * p)


def copy_parameters(source: nn.Module, target: nn.Module) -> None:
    with torch.no_grad():
        for p, q in zip(source.parameters(), target.parameters(), strict=True):
            q.copy_(p)


def _differ(a: nn.Module, b: nn.Module) -> bool:
    return any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def _finite_scalar(loss: object) -> bool:
    return (
        isinstance(loss, torch.Tensor)
        and loss.dim() == 0
        and bool(torch.isfinite(loss))
        and loss.requires_grad
    )


def several(workspace: Any, *names: str, what: str, repro: str) -> tuple[torch.Tensor, ...]:
    """``workspace[name_1, name_2, ...]``, the course's way of reading several variables at
    once, checked: it must give ``workspace[name_i]`` for each name, in order."""
    __tracebackhide__ = True
    values = tuple(workspace[names])
    expect(
        len(values) == len(names),
        CLAUSE_FOR["several names"],
        f"{what}: workspace[{', '.join(map(repr, names))}] gave {len(values)} values",
        repro,
    )
    for name, value in zip(names, values, strict=True):
        expect_equal_tensors(
            value,
            workspace[name],
            CLAUSE_FOR["several names"],
            f"{what}: the value for {name!r} of workspace[{', '.join(map(repr, names))}] must "
            f"be workspace[{name!r}]",
            repro,
        )
    return values


# --------------------------------------------------------------------------- agent classes


def _impl_key(impl: Any) -> str:
    name = getattr(impl, "module_name", None) or getattr(impl, "__name__", "impl")
    return re.sub(r"\W", "_", str(name))


class Course:
    """The agent classes of the programs, subclassing one implementation's ``Agent``.

    They are written once per implementation (``Course.of(impl)``) and registered as attributes
    of this module, so that ``torch.save`` of a whole agent (bbrl's ``save_model``) can pickle
    them by name, as it can a notebook's classes.
    """

    _cache: dict[int, Course] = {}  # noqa: RUF012 (one namespace per implementation object)

    def __init__(self, impl: Any) -> None:
        self.impl = impl
        key = _impl_key(impl)
        for name, cls in _agent_classes(impl).items():
            cls.__name__ = cls.__qualname__ = f"{name}__{key}"
            cls.__module__ = __name__
            globals()[cls.__name__] = cls
            setattr(self, name, cls)

    @classmethod
    def of(cls, impl: Any) -> Course:
        found = cls._cache.get(id(impl))
        if found is None or found.impl is not impl:
            found = cls._cache[id(impl)] = Course(impl)
        return found

    def __getattr__(self, name: str) -> Any:  # the classes set in __init__
        raise AttributeError(name)


def _agent_classes(impl: Any) -> dict[str, type]:
    Agent = impl.Agent

    class InitAgent(Agent):  # type: ignore[misc,valid-type]
        """Notebook 01: writes the first two numbers of the sequence (no ``t`` parameter)."""

        def forward(self, **kwargs: Any) -> None:
            self.set(("number", 0), torch.Tensor([0]))
            self.set(("number", 1), torch.Tensor([1]))

    class FibonacciAgent(Agent):  # type: ignore[misc,valid-type]
        """Notebook 01: number[t + 1] = number[t] + number[t - 1]."""

        def forward(self, t: int, **kwargs: Any) -> None:
            current = self.get(("number", t))
            previous = self.get(("number", t - 1))
            self.set(("number", t + 1), current + previous)

    class TerminationChecker(Agent):  # type: ignore[misc,valid-type]
        """Notebook 01: a float ``stop`` variable, 1.0 once the number reaches a threshold."""

        def __init__(self, threshold: float) -> None:
            super().__init__()
            self.threshold = threshold

        def forward(self, t: int, **kwargs: Any) -> None:
            number = self.get(("number", t + 1))
            reached = bool(number.item() >= self.threshold)
            self.set(("stop", t + 1), torch.Tensor([reached]))

    class RandomAgent(Agent):  # type: ignore[misc,valid-type]
        """Notebooks 02-03: a uniformly random discrete action for each env."""

        def __init__(self, action_dim: int) -> None:
            super().__init__()
            self.action_dim = action_dim

        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            self.set(("action", t), torch.randint(0, self.action_dim, (len(obs),)))

    class DiscreteQAgent(Agent):  # type: ignore[misc,valid-type]
        """Writes ``<name>/q_values`` ``[B, n_actions]`` from the observation."""

        def __init__(self, obs_size: int, hidden: Sequence[int], n_actions: int, name: str) -> None:
            super().__init__(name=name)
            self.model = build_mlp([obs_size, *hidden, n_actions], nn.ReLU())

        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            self.set((f"{self.name}/q_values", t), self.model(obs))

    class EGreedyActionSelector(Agent):  # type: ignore[misc,valid-type]
        """Epsilon-greedy on ``<critic>/q_values``; ``decay()`` lowers epsilon."""

        def __init__(self, epsilon: float, epsilon_end: float, critic: str, name: str) -> None:
            super().__init__(name=name)
            self.epsilon, self.epsilon_end, self.critic = epsilon, epsilon_end, critic

        def decay(self) -> None:
            self.epsilon = max(self.epsilon_end, self.epsilon * 0.8)

        def forward(self, t: int, **kwargs: Any) -> None:
            q_values = self.get((f"{self.critic}/q_values", t))
            greedy = q_values.argmax(dim=-1)
            random = torch.randint(0, q_values.shape[-1], greedy.shape)
            explore = torch.rand(greedy.shape) < self.epsilon
            self.set(("action", t), torch.where(explore, random, greedy))

    class ArgmaxActionSelector(Agent):  # type: ignore[misc,valid-type]
        def __init__(self, critic: str) -> None:
            super().__init__()
            self.critic = critic

        def forward(self, t: int, **kwargs: Any) -> None:
            self.set(("action", t), self.get((f"{self.critic}/q_values", t)).argmax(dim=-1))

    class ContinuousDeterministicActor(Agent):  # type: ignore[misc,valid-type]
        def __init__(
            self, obs_size: int, hidden: Sequence[int], action_dim: int, scale: float
        ) -> None:
            super().__init__()
            self.model = build_mlp([obs_size, *hidden, action_dim], nn.ReLU(), nn.Tanh())
            self.scale = scale

        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            self.set(("action", t), self.scale * self.model(obs))

    class AddGaussianNoise(Agent):  # type: ignore[misc,valid-type]
        """Adds N(0, sigma) to the action written at ``t`` by the agent before it."""

        def __init__(self, sigma: float, bound: float) -> None:
            super().__init__()
            self.sigma, self.bound = sigma, bound

        def forward(self, t: int, **kwargs: Any) -> None:
            action = self.get(("action", t))
            noisy = action + self.sigma * torch.randn(action.shape)
            self.set(("action", t), noisy.clamp(-self.bound, self.bound))

    class ContinuousQAgent(Agent):  # type: ignore[misc,valid-type]
        """Writes ``<name>/q_value`` ``[B]`` from the observation and the action."""

        def __init__(
            self, obs_size: int, hidden: Sequence[int], action_dim: int, name: str
        ) -> None:
            super().__init__(name=name)
            self.model = build_mlp([obs_size + action_dim, *hidden, 1], nn.ReLU())

        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            action = self.get(("action", t))
            q = self.model(torch.cat((obs, action), dim=1)).squeeze(-1)
            self.set((f"{self.name}/q_value", t), q)

    class SoftQAgent(Agent):  # type: ignore[misc,valid-type]
        """SAC's critic, course style: writes ``<prefix>q_value`` ``[B]`` (``with_prefix``)."""

        def __init__(self, obs_size: int, hidden: Sequence[int], action_dim: int) -> None:
            super().__init__()
            self.model = build_mlp([obs_size + action_dim, *hidden, 1], nn.ReLU())

        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            action = self.get(("action", t))
            q = self.model(torch.cat((obs, action), dim=1)).squeeze(-1)
            self.set((f"{self.prefix}q_value", t), q)

    class SquashedGaussianActor(Agent):  # type: ignore[misc,valid-type]
        """SAC's actor: a tanh-squashed Gaussian; ``stochastic=False`` gives its mode."""

        def __init__(
            self, obs_size: int, hidden: Sequence[int], action_dim: int, scale: float
        ) -> None:
            super().__init__()
            self.backbone = build_mlp([obs_size, *hidden], nn.ReLU(), nn.ReLU())
            self.mean = nn.Linear(hidden[-1], action_dim)
            self.log_std = nn.Linear(hidden[-1], action_dim)
            self.scale = scale

        def forward(self, t: int, stochastic: bool = True, **kwargs: Any) -> None:
            features = self.backbone(self.get(("env/env_obs", t)))
            mean = self.mean(features)
            std = self.log_std(features).clamp(-5.0, 2.0).exp()
            u = mean + std * torch.randn_like(mean) if stochastic else mean
            action = torch.tanh(u)
            gaussian = -((u - mean) / std).pow(2) / 2 - std.log() - math.log(math.sqrt(2 * math.pi))
            log_prob = gaussian - torch.log(1 - action.pow(2) + 1e-6)
            self.set(("action", t), self.scale * action)
            self.set(("action_logprobs", t), log_prob.sum(dim=-1))

    class DiscretePolicy(Agent):  # type: ignore[misc,valid-type]
        """PPO's actor, course style: samples ``action``, or with ``predict_proba`` writes the
        log-probability of the action already in the workspace as ``<prefix>logprob_predict``."""

        def __init__(self, obs_size: int, hidden: Sequence[int], n_actions: int) -> None:
            super().__init__()
            self.model = build_mlp([obs_size, *hidden, n_actions], nn.Tanh())

        def forward(
            self,
            t: int,
            *,
            stochastic: bool = True,
            predict_proba: bool = False,
            compute_entropy: bool = False,
            **kwargs: Any,
        ) -> None:
            log_probs = torch.log_softmax(self.model(self.get(("env/env_obs", t))), dim=-1)
            if predict_proba:
                action = self.get(("action", t))
                chosen = log_probs.gather(1, action.unsqueeze(-1)).squeeze(-1)
                self.set((f"{self.prefix}logprob_predict", t), chosen)
            else:
                if stochastic:
                    action = torch.multinomial(log_probs.exp(), 1).squeeze(-1)
                else:
                    action = log_probs.argmax(dim=-1)
                self.set(("action", t), action)
            if compute_entropy:
                entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
                self.set((f"{self.prefix}entropy", t), entropy)

    class VAgent(Agent):  # type: ignore[misc,valid-type]
        """PPO's critic, course style: writes ``<prefix>v_values``."""

        def __init__(self, obs_size: int, hidden: Sequence[int]) -> None:
            super().__init__()
            self.model = build_mlp([obs_size, *hidden, 1], nn.Tanh())

        def forward(self, t: int, **kwargs: Any) -> None:
            obs = self.get(("env/env_obs", t))
            self.set((f"{self.prefix}v_values", t), self.model(obs).squeeze(-1))

    return {
        cls.__name__: cls
        for cls in (
            InitAgent,
            FibonacciAgent,
            TerminationChecker,
            RandomAgent,
            DiscreteQAgent,
            EGreedyActionSelector,
            ArgmaxActionSelector,
            ContinuousDeterministicActor,
            AddGaussianNoise,
            ContinuousQAgent,
            SoftQAgent,
            SquashedGaussianActor,
            DiscretePolicy,
            VAgent,
        )
    }


# --------------------------------------------------------------------------- notebook 01


def _fibonacci(n: int) -> list[float]:
    numbers = [0.0, 1.0]
    while len(numbers) < n:
        numbers.append(numbers[-1] + numbers[-2])
    return numbers[:n]


def notebook01_fibonacci(impl: Any) -> None:
    """Notebook 01: an init agent at t=0, then a Fibonacci agent for 20 steps from t=1."""
    repro = _repro("notebook01_fibonacci")
    course = Course.of(impl)
    workspace = impl.Workspace()
    init_agent = impl.TemporalAgent(impl.Agents(course.InitAgent()))
    fib_agent = impl.TemporalAgent(impl.Agents(course.FibonacciAgent()))
    init_agent(workspace, t=0, n_steps=1)
    expect_equal_tensors(
        workspace["number"],
        torch.tensor([[0.0], [1.0]]),
        "WS-6",
        "after the init agent wrote number[0] = [0.] and number[1] = [1.], workspace['number']",
        repro,
    )
    fib_agent(workspace, t=1, n_steps=20)
    expected = torch.tensor(_fibonacci(22)).unsqueeze(1)
    expect_equal_tensors(
        workspace["number"],
        expected,
        "TA-1",
        "after fib_agent(workspace, t=1, n_steps=20), workspace['number'] (22 rows: the init "
        "agent's two, then one per step)",
        repro,
    )
    expect_equal_tensors(
        workspace.get("number", 6),
        torch.tensor([8.0]),
        "AG-3",
        "workspace.get('number', 6), the 6th Fibonacci number",
        repro,
    )
    names = sorted(workspace.variables.keys())
    expect(names == ["number"], "WS-12", f"workspace.variables.keys() = {names}", repro)


def notebook01_stop_variable(impl: Any) -> None:
    """Notebook 01: the Fibonacci agent with a termination checker writing a float stop
    variable and a PrintAgent, run with ``stop_variable="stop"``."""
    repro = _repro("notebook01_stop_variable")
    course = Course.of(impl)
    threshold = 200.0
    workspace = impl.Workspace()
    init_agent = impl.TemporalAgent(impl.Agents(course.InitAgent()))
    fib_agent = impl.TemporalAgent(
        impl.Agents(
            course.FibonacciAgent(), course.TerminationChecker(threshold), impl.PrintAgent()
        )
    )
    init_agent(workspace, t=0, n_steps=1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fib_agent(workspace, t=1, stop_variable="stop")
    # Model: the step at t writes number[t+1] and stop[t+1]; the run stops after the first step
    # t whose row stop[t] is nonzero, i.e. the first t >= 1 with number[t] >= threshold.
    numbers = _fibonacci(100)
    last_t = next(t for t in range(1, 100) if numbers[t] >= threshold)
    expect(
        workspace.time_size() == last_t + 2,
        CLAUSE_FOR["float stop"],
        f"the run from t=1 should stop after the step at t={last_t} (number[{last_t}] = "
        f"{numbers[last_t]:g} is the first >= {threshold:g}), leaving {last_t + 2} rows; "
        f"time_size() = {workspace.time_size()}",
        repro,
    )
    expect_equal_tensors(
        workspace["number"],
        torch.tensor(numbers[: last_t + 2]).unsqueeze(1),
        "TA-2",
        "workspace['number'] after the run stopped by the float stop variable",
        repro,
    )
    stop = [0.0, 0.0] + [float(numbers[t] >= threshold) for t in range(2, last_t + 2)]
    expect_equal_tensors(
        workspace["stop"],
        torch.tensor(stop).unsqueeze(1),
        "TA-2",
        "workspace['stop'] (float32; rows 0 and 1 never written, so zero)",
        repro,
    )
    expect(
        sorted(workspace.keys()) == ["number", "stop"] and "number" in printed.getvalue(),
        CLAUSE_FOR["print agent"],
        f"PrintAgent() printed {printed.getvalue()[:200]!r}..., and the workspace holds "
        f"{sorted(workspace.keys())}; it prints the variables and writes none",
        repro,
    )


# --------------------------------------------------------------------------- notebook 02


def _time_limit(steps: int) -> Callable[[Any], Any]:
    return lambda env: TimeLimit(env, steps)


def notebook02_step_by_hand(impl: Any) -> None:
    """Notebook 02: three CartPole envs without autoreset, wrapped in ``TimeLimit(env, 5)``
    through ``make_env(..., wrappers=[...])``; one reset and one step, driven by hand."""
    repro = _repro("notebook02_step_by_hand")
    recorder = EnvRecorder()
    n_envs = 3
    env_agent = impl.ParallelGymAgent(
        partial(
            impl.make_env,
            "CartPole-v1",
            autoreset=False,
            wrappers=[_time_limit(5), recorder.wrap],
        ),
        n_envs,
        reward_at_t=False,
    )
    env_agent.seed(2139)
    obs_size, action_dim = env_agent.get_obs_and_actions_sizes()
    expect(
        (obs_size, action_dim) == (4, 2),
        "ENV-12",
        f"CartPole: get_obs_and_actions_sizes() = {(obs_size, action_dim)}, expected (4, 2)",
        repro,
    )
    expect(
        recorder.num_envs == n_envs,
        CLAUSE_FOR["wrappers"],
        f"ParallelGymAgent(partial(make_env, 'CartPole-v1', wrappers=[...]), {n_envs}) built "
        f"{recorder.num_envs} envs through the wrappers, expected {n_envs}",
        repro,
    )
    workspace = impl.Workspace()
    with _seeded(0):
        env_agent(workspace, t=0)
        obs = workspace.get("env/env_obs", 0)
        expect(
            tuple(obs.shape) == (n_envs, 4),
            "ENV-2",
            f"workspace.get('env/env_obs', 0).shape = {tuple(obs.shape)}",
            repro,
        )
        action = torch.randint(0, action_dim, (n_envs,))
        workspace.set("action", 0, action)
        env_agent(workspace, t=1)
    recorder.check_rows(
        workspace, autoreset=False, first_row=0, setting="one step by hand", repro=repro
    )


def notebook02_episodes(impl: Any) -> None:
    """Notebook 02: env agent and random agent in a TemporalAgent, run until every env is done
    (``stop_variable="env/done"``, no autoreset), twice."""
    repro = _repro("notebook02_episodes")
    course = Course.of(impl)
    recorder = EnvRecorder()
    n_envs = 3
    env_agent = impl.ParallelGymAgent(
        partial(
            impl.make_env, "CartPole-v1", autoreset=False, wrappers=[_time_limit(5), recorder.wrap]
        ),
        n_envs,
        reward_at_t=False,
    ).seed(2139)
    _, action_dim = env_agent.get_obs_and_actions_sizes()
    t_agents = impl.TemporalAgent(impl.Agents(env_agent, course.RandomAgent(action_dim)))
    with _seeded(1):
        for rollout in range(2):
            workspace = impl.Workspace()
            t_agents(workspace, t=0, stop_variable="env/done", stochastic=True)
            setting = f"rollout {rollout} until env/done"
            recorder.check_rows(
                workspace, autoreset=False, first_row=0, setting=setting, repro=repro
            )
            done = workspace["env/done"]
            expect(
                bool(done[-1].all()) and not bool(done[-2].all()),
                "TA-2",
                f"{setting}: the run must stop at the first row where every env is done; "
                f"env/done = {done.tolist()}",
                repro,
            )
            returns = workspace["env/cumulated_reward"][-1].tolist()
            for b in range(n_envs):
                episode_return = recorder.episode_returns(b)[-1]
                expect(
                    math.isclose(returns[b], episode_return, rel_tol=1e-6),
                    "ENV-7",
                    f"{setting}: env {b}'s last cumulated reward is {returns[b]}, but its episode "
                    f"returned {episode_return}",
                    repro,
                )
            for key in sorted(workspace.variables.keys()):
                expect(
                    workspace[key].shape[:2] == done.shape,
                    "WS-13",
                    f"{setting}: {key} has shape {tuple(workspace[key].shape)}, time and batch "
                    f"sizes {tuple(done.shape)} expected",
                    repro,
                )


# --------------------------------------------------------------------------- notebook 03


def _check_pair_order(workspace: Any, transitions: Any, setting: str, repro: str) -> None:
    """Notebook 03's lesson: the pairs come time-major, then by env (the first pair of each env,
    then the second of each, ...), minus those starting at a done row."""
    __tracebackhide__ = True
    obs, done = workspace["env/env_obs"], workspace["env/done"]
    T, B = int(done.shape[0]), int(done.shape[1])
    kept = [(t, b) for t in range(T - 1) for b in range(B) if not bool(done[t, b])]
    expected = (
        torch.stack(
            [
                torch.stack([obs[t, b] for t, b in kept]),
                torch.stack([obs[t + 1, b] for t, b in kept]),
            ]
        )
        if kept
        else torch.zeros(2, 0, *obs.shape[2:])
    )
    got = transitions["env/env_obs"]
    # Which pairs are kept is TR-3's rule, their order TR-2's: name the one that the output
    # breaks (the same pairs in another order break only TR-2).
    same_pairs = got.shape == expected.shape and sorted(_pair_rows(got)) == sorted(
        _pair_rows(expected)
    )
    expect_equal_tensors(
        got,
        expected,
        "TR-2" if same_pairs else "TR-3",
        f"{setting}: get_transitions()['env/env_obs'] must hold the pairs (t, b) time-major, then "
        f"by env, without those starting at a done row: {kept}",
        repro,
    )


def _pair_rows(pairs: torch.Tensor) -> list[tuple[float, ...]]:
    """The columns of a ``[2, N, ...]`` tensor of pairs, each as a tuple of its values."""
    flat = pairs.transpose(0, 1).reshape(pairs.shape[1], -1)
    return [tuple(row) for row in flat.tolist()]


def notebook03_autoreset(impl: Any) -> None:
    """Notebook 03: CartPole with autoreset, transitions of one and of three envs, a replay
    buffer of 80, and the epoch loop (``copy_n_last_steps(1)``, runs from ``t=1``)."""
    repro = _repro("notebook03_autoreset")
    course = Course.of(impl)
    with _seeded(2):
        # One env, 15 steps: transitions are the consecutive pairs, minus those from a done row.
        recorder = EnvRecorder()
        env_agent = impl.ParallelGymAgent(
            partial(impl.make_env, autoreset=True, **recorder.env("CartPole-v1")),
            num_envs=1,
        ).seed(2139)
        _, action_dim = env_agent.get_obs_and_actions_sizes()
        t_agents = impl.TemporalAgent(impl.Agents(env_agent, course.RandomAgent(action_dim)))
        workspace = impl.Workspace()
        t_agents(workspace, n_steps=15)
        recorder.check_rows(
            workspace, autoreset=True, first_row=0, setting="1 env, 15 steps", repro=repro
        )
        transitions = workspace.get_transitions()
        extra, missing = counter_difference(transitions_of(transitions), recorder.transitions())
        expect(
            extra == missing == 0,
            "TR-3",
            f"1 env, 15 steps: get_transitions() has {extra} pairs the env never performed and "
            f"misses {missing} it did",
            repro,
        )
        # The transition workspace is a workspace: an agent can run on it.
        impl.TemporalAgent(course.RandomAgent(action_dim))(transitions, t=0, n_steps=2)
        actions = transitions["action"]
        expect(
            tuple(actions.shape) == (2, transitions.batch_size()),
            "TR-1",
            f"after a random agent rewrote 'action' in the transitions, its shape is "
            f"{tuple(actions.shape)}",
            repro,
        )

        # Three envs and a replay buffer fed by epochs of 10 steps.
        recorder = EnvRecorder()
        multienv_agent = impl.ParallelGymAgent(
            partial(impl.make_env, autoreset=True, **recorder.env("CartPole-v1")),
            num_envs=3,
        ).seed(2139)
        t_agents = impl.TemporalAgent(impl.Agents(multienv_agent, course.RandomAgent(action_dim)))
        rb = impl.ReplayBuffer(max_size=80)
        workspace = impl.Workspace()
        put = 0
        collected: collections.Counter[Any] = collections.Counter()
        stored: list[tuple[bytes, bytes]] = []
        for epoch in range(6):
            if epoch == 0:
                t_agents(workspace, t=0, n_steps=10)
            else:
                workspace.zero_grad()
                workspace.copy_n_last_steps(1)
                t_agents(workspace, t=1, n_steps=9)
            setting = f"3 envs, epoch {epoch}"
            recorder.check_rows(
                workspace,
                autoreset=True,
                first_row=0 if epoch == 0 else 1,
                setting=setting,
                repro=repro,
            )
            transition_workspace = workspace.get_transitions()
            _check_pair_order(workspace, transition_workspace, setting, repro)
            found = transitions_of(transition_workspace)
            collected += found
            stored += [(first, second) for first, second, _, _ in found.elements()]
            put += transition_workspace.batch_size()
            rb.put(transition_workspace)
            expect(
                rb.size() == min(put, 80),
                "RB-3",
                f"{setting}: rb.size() = {rb.size()} after {put} transitions into max_size=80",
                repro,
            )
        extra, missing = counter_difference(collected, recorder.transitions())
        expect(
            extra == missing == 0 and put == recorder.steps(),
            "TR-10",
            f"the epochs' get_transitions() gave {put} transitions for {recorder.steps()} env "
            f"steps: {extra} the envs did not perform (or given twice), {missing} missed",
            repro,
        )
        sample = rb.get_shuffled(3)["env/env_obs"]
        expect(
            tuple(sample.shape) == (2, 3, 4),
            "RB-8",
            f"rb.get_shuffled(3)['env/env_obs'].shape = {tuple(sample.shape)}",
            repro,
        )
        # The buffer keeps the last 80 transitions (in get_transitions' column order).
        last = set(stored[-80:])
        for j in range(3):
            pair = (sample[0, j].numpy().tobytes(), sample[1, j].numpy().tobytes())
            expect(
                pair in last,
                "RB-9",
                f"rb.get_shuffled(3) returned a transition that is not among the last 80 put: "
                f"{sample[:, j].tolist()}",
                repro,
            )


# --------------------------------------------------------------------------- off-policy course


@dataclass
class _Epoch:
    epoch: int
    ready: bool  # the buffer holds more than learning_starts transitions


def _iter_replay_buffer(
    impl: Any,
    train_agent: Any,
    recorder: EnvRecorder,
    rb: Any,
    *,
    max_size: int,
    n_epochs: int,
    n_steps: int,
    learning_starts: int,
    repro: str,
) -> Iterator[_Epoch]:
    """The course's epoch loop (``EpochBasedAlgo.iter_replay_buffers``), checked as it runs.

    Epoch 0 runs ``n_steps + 1`` steps from ``t=0``; every later epoch copies the last row to
    row 0 and runs ``n_steps`` steps from ``t=1``. Each epoch's rows are matched against the
    envs, its ``get_transitions()`` goes into ``rb`` (whose size is checked), and at the end the
    transitions collected over all epochs must be exactly the steps the envs took (TR-10).
    """
    __tracebackhide__ = True
    workspace = impl.Workspace()
    collected: collections.Counter[Any] = collections.Counter()
    put = 0
    for epoch in range(n_epochs):
        if epoch == 0:
            train_agent(workspace, t=0, n_steps=n_steps + 1)
        else:
            workspace.zero_grad()
            workspace.copy_n_last_steps(1)
            train_agent(workspace, t=1, n_steps=n_steps)
        setting = f"epoch {epoch}"
        recorder.check_rows(
            workspace,
            autoreset=True,
            first_row=0 if epoch == 0 else 1,
            setting=setting,
            repro=repro,
        )
        transition_workspace = workspace.get_transitions()
        found = transitions_of(transition_workspace)
        collected += found
        put += transition_workspace.batch_size()
        rb.put(transition_workspace)
        expect(
            rb.size() == min(put, max_size),
            "RB-3",
            f"{setting}: rb.size() = {rb.size()!r} after {put} transitions put into a buffer of "
            f"{max_size}",
            repro,
        )
        yield _Epoch(epoch, rb.size() > learning_starts)
    extra, missing = counter_difference(collected, recorder.transitions())
    expect(
        extra == missing == 0,
        "TR-10",
        f"over {n_epochs} epochs, get_transitions() gave {extra} transitions the envs did not "
        f"perform (or gave more than once) and missed {missing} they did",
        repro,
    )


def _check_grads_match(
    loss: torch.Tensor, direct: torch.Tensor, params: Sequence[nn.Parameter], what: str, repro: str
) -> None:
    """The loss read through the workspace equals the loss computed without it, gradients too."""
    __tracebackhide__ = True
    expect(
        _finite_scalar(loss),
        "WS-9",
        f"{what}: the loss is {loss!r}; a finite scalar with autograd history expected",
        repro,
    )
    expect(
        torch.allclose(loss, direct, rtol=1e-5, atol=1e-6),
        CLAUSE_FOR["several names"],
        f"{what}: the loss from the workspace's tensors is {loss.item()!r}, the same loss "
        f"computed from the networks directly is {direct.item()!r}",
        repro,
    )
    got = torch.autograd.grad(loss, params, retain_graph=True)
    want = torch.autograd.grad(direct, params, retain_graph=True)
    expect(
        all(torch.allclose(g, w, rtol=1e-4, atol=1e-6) for g, w in zip(got, want, strict=True))
        and any(bool(g.abs().sum() > 0) for g in got),
        "WS-9",
        f"{what}: the gradients through the workspace differ from those of the direct "
        "computation (or are all zero)",
        repro,
    )


def _dqn_loss(
    q: torch.Tensor,
    target_q: torch.Tensor,
    terminated: torch.Tensor,
    reward: torch.Tensor,
    action: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """The course's DQN critic loss: ``q`` ``[B, A]`` at t, ``target_q`` ``[B, A]`` at t + 1,
    the other arguments ``[2, B]`` transitions."""
    must_bootstrap = (~terminated[1]).float()
    target = reward[1] + gamma * target_q.max(dim=-1).values * must_bootstrap
    chosen = q.gather(1, action[0].unsqueeze(-1)).squeeze(-1)
    return nn.functional.mse_loss(chosen, target.detach())


def _td_loss(
    q: torch.Tensor,
    target_q: torch.Tensor,
    terminated: torch.Tensor,
    reward: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """DDPG's critic loss: ``q`` ``[B]`` at t, ``target_q`` ``[B]`` at t + 1."""
    target = reward[1] + gamma * target_q * (~terminated[1]).float()
    return nn.functional.mse_loss(q, target.detach())


def _eval_returns(
    impl: Any, eval_agent: Any, recorder: EnvRecorder, setting: str, repro: str
) -> torch.Tensor:
    """One evaluation as the course runs it: from t=0 until every env is done (no autoreset);
    the rows are matched against the envs and the last cumulated rewards against the returns."""
    __tracebackhide__ = True
    eval_workspace = impl.Workspace()
    eval_agent(eval_workspace, t=0, stop_variable="env/done")
    recorder.check_rows(eval_workspace, autoreset=False, first_row=0, setting=setting, repro=repro)
    rewards: torch.Tensor = eval_workspace["env/cumulated_reward"][-1]
    for b in range(recorder.num_envs):
        episode_return = recorder.episode_returns(b)[-1]
        expect(
            math.isclose(float(rewards[b]), episode_return, rel_tol=1e-5, abs_tol=1e-4),
            "ENV-7",
            f"{setting}: env {b}'s final cumulated reward is {float(rewards[b])!r}, its episode's "
            f"rewards sum to {episode_return!r}",
            repro,
        )
    return rewards


def dqn_cartpole(impl: Any) -> None:
    """DQN on CartPole as the course writes it: a Q-agent and an epsilon-greedy selector found
    by ``get_by_name``, a target critic made by ``copy.deepcopy(...).set_name(...)``, a replay
    buffer sized by a float, and a critic loss reading several variables at once."""
    repro = _repro("dqn_cartpole")
    course = Course.of(impl)
    cfg = {
        "n_envs": 2,
        "n_steps": 8,
        "max_epochs": 8,
        "buffer_size": 4e1,
        "batch_size": 16,
        "learning_starts": 16,
        "discount_factor": 0.99,
        "tau": 0.5,
        "lr": 1e-2,
    }
    with _seeded(3):
        recorder, eval_recorder = EnvRecorder(), EnvRecorder()
        train_env = impl.ParallelGymAgent(
            partial(impl.make_env, "CartPole-v1", autoreset=True, wrappers=[recorder.wrap]),
            cfg["n_envs"],
        ).seed(4)
        eval_env = impl.ParallelGymAgent(
            partial(impl.make_env, "CartPole-v1", wrappers=[eval_recorder.wrap]), 2
        ).seed(5)
        obs_size, n_actions = train_env.get_obs_and_actions_sizes()
        critic = course.DiscreteQAgent(obs_size, [16], n_actions, name="critic")
        target_critic = copy.deepcopy(critic).set_name("target-critic")
        explorer = course.EGreedyActionSelector(0.9, 0.05, critic="critic", name="action_selector")
        train_agent = impl.TemporalAgent(impl.Agents(train_env, critic, explorer))
        eval_agent = impl.TemporalAgent(
            impl.Agents(eval_env, critic, course.ArgmaxActionSelector("critic"))
        )
        t_critic = impl.TemporalAgent(critic)
        t_target_critic = impl.TemporalAgent(target_critic)
        optimizer = torch.optim.Adam(critic.parameters(), lr=cfg["lr"])
        rb = impl.ReplayBuffer(max_size=cfg["buffer_size"])
        names = impl.Agents(critic, target_critic).get_by_name("critic")
        expect(
            len(names) == 1 and names[0] is critic,
            CLAUSE_FOR["get_by_name"],
            f"after copy.deepcopy(critic).set_name('target-critic'), get_by_name('critic') "
            f"found {names!r}; only the original critic expected",
            repro,
        )
        updates = 0
        for epoch in _iter_replay_buffer(
            impl,
            train_agent,
            recorder,
            rb,
            max_size=40,
            n_epochs=int(cfg["max_epochs"]),
            n_steps=int(cfg["n_steps"]),
            learning_starts=int(cfg["learning_starts"]),
            repro=repro,
        ):
            explorers = train_agent.agent.get_by_name("action_selector")
            expect(
                len(explorers) == 1 and explorers[0] is explorer,
                CLAUSE_FOR["get_by_name"],
                f"train_agent.agent.get_by_name('action_selector') = {explorers!r}",
                repro,
            )
            explorers[0].decay()
            if not epoch.ready:
                continue
            rb_workspace = rb.get_shuffled(int(cfg["batch_size"]))
            t_critic(rb_workspace, t=0, n_steps=2)
            with torch.no_grad():
                t_target_critic(rb_workspace, t=1, n_steps=1)
            q_values, terminated, reward, action, target_q_values = several(
                rb_workspace,
                "critic/q_values",
                "env/terminated",
                "env/reward",
                "action",
                "target-critic/q_values",
                what=f"epoch {epoch.epoch}",
                repro=repro,
            )
            expect(
                tuple(q_values.shape) == (2, cfg["batch_size"], n_actions),
                CLAUSE_FOR["several names"],
                f"epoch {epoch.epoch}: rb_workspace['critic/q_values', ...][0].shape = "
                f"{tuple(q_values.shape)}",
                repro,
            )
            gamma = cfg["discount_factor"]
            loss = _dqn_loss(q_values[0], target_q_values[1], terminated, reward, action, gamma)
            obs = rb_workspace["env/env_obs"]
            with torch.no_grad():
                direct_target = target_critic.model(obs[1])
            direct = _dqn_loss(
                critic.model(obs[0]), direct_target, terminated, reward, action, gamma
            )
            _check_grads_match(
                loss,
                direct,
                list(critic.parameters()),
                f"epoch {epoch.epoch}: DQN critic loss",
                repro,
            )
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            soft_update(critic, target_critic, cfg["tau"])
            updates += 1
        expect(
            updates > 0, "RB-3", "the replay buffer never held enough transitions to learn", repro
        )
        expect(
            _differ(critic, target_critic),
            CLAUSE_FOR["get_by_name"],
            "after soft updates with tau=0.5, the target critic's parameters equal the critic's: "
            "copy.deepcopy of an agent must give independent parameters",
            repro,
        )
        _eval_returns(impl, eval_agent, eval_recorder, "evaluation", repro)


def _pendulum(impl: Any, recorder: EnvRecorder, autoreset: bool, episode_steps: int) -> Any:
    """A factory of Pendulum envs cut to ``episode_steps`` steps by a TimeLimit wrapper."""
    return partial(
        impl.make_env,
        "Pendulum-v1",
        autoreset=autoreset,
        wrappers=[_time_limit(episode_steps), recorder.wrap],
    )


def ddpg_pendulum(impl: Any) -> None:
    """DDPG on Pendulum as the course writes it: a deterministic actor with Gaussian noise,
    a critic and target networks (``copy.deepcopy(...).set_name(...)``), soft updates, and
    critic and actor losses read from the replay-buffer sample."""
    repro = _repro("ddpg_pendulum")
    course = Course.of(impl)
    cfg = {
        "n_envs": 2,
        "n_steps": 8,
        "max_epochs": 6,
        "buffer_size": 1e3,
        "batch_size": 16,
        "learning_starts": 16,
        "discount_factor": 0.98,
        "tau": 0.5,
        "lr": 1e-3,
    }
    with _seeded(5):
        recorder, eval_recorder = EnvRecorder(), EnvRecorder()
        train_env = impl.ParallelGymAgent(_pendulum(impl, recorder, True, 10), cfg["n_envs"]).seed(
            6
        )
        eval_env = impl.ParallelGymAgent(_pendulum(impl, eval_recorder, False, 10), 2).seed(7)
        obs_size, action_dim = train_env.get_obs_and_actions_sizes()
        actor = course.ContinuousDeterministicActor(obs_size, [16], action_dim, 2.0)
        critic = course.ContinuousQAgent(obs_size, [16], action_dim, name="critic")
        target_actor = copy.deepcopy(actor)
        target_critic = copy.deepcopy(critic).set_name("target-critic")
        train_agent = impl.TemporalAgent(
            impl.Agents(train_env, actor, course.AddGaussianNoise(0.1, 2.0))
        )
        eval_agent = impl.TemporalAgent(impl.Agents(eval_env, actor))
        t_actor, t_critic = impl.TemporalAgent(actor), impl.TemporalAgent(critic)
        t_target_actor = impl.TemporalAgent(target_actor)
        t_target_critic = impl.TemporalAgent(target_critic)
        actor_optimizer = torch.optim.Adam(actor.parameters(), lr=cfg["lr"])
        critic_optimizer = torch.optim.Adam(critic.parameters(), lr=cfg["lr"])
        rb = impl.ReplayBuffer(max_size=cfg["buffer_size"])
        gamma = cfg["discount_factor"]
        updates = 0
        for epoch in _iter_replay_buffer(
            impl,
            train_agent,
            recorder,
            rb,
            max_size=1000,
            n_epochs=int(cfg["max_epochs"]),
            n_steps=int(cfg["n_steps"]),
            learning_starts=int(cfg["learning_starts"]),
            repro=repro,
        ):
            if not epoch.ready:
                continue
            what = f"epoch {epoch.epoch}"
            rb_workspace = rb.get_shuffled(int(cfg["batch_size"]))
            obs, stored_action = several(
                rb_workspace, "env/env_obs", "action", what=what, repro=repro
            )
            stored_action = stored_action.clone()
            # Critic update
            t_critic(rb_workspace, t=0, n_steps=1)
            with torch.no_grad():
                t_target_actor(rb_workspace, t=1, n_steps=1)
                t_target_critic(rb_workspace, t=1, n_steps=1)
            q_values, terminated, reward, target_q_values = several(
                rb_workspace,
                "critic/q_value",
                "env/terminated",
                "env/reward",
                "target-critic/q_value",
                what=what,
                repro=repro,
            )
            critic_loss = _td_loss(q_values[0], target_q_values[1], terminated, reward, gamma)
            with torch.no_grad():
                next_action = 2.0 * target_actor.model(obs[1])
                direct_target = target_critic.model(torch.cat((obs[1], next_action), 1)).squeeze(-1)
            direct_q = critic.model(torch.cat((obs[0], stored_action[0]), 1)).squeeze(-1)
            _check_grads_match(
                critic_loss,
                _td_loss(direct_q, direct_target, terminated, reward, gamma),
                list(critic.parameters()),
                f"{what}: DDPG critic loss",
                repro,
            )
            critic_optimizer.zero_grad()
            critic_loss.backward()  # type: ignore[no-untyped-call]
            critic_optimizer.step()
            # Actor update: the actor's action at t=0 goes through the critic
            t_actor(rb_workspace, t=0, n_steps=1)
            t_critic(rb_workspace, t=0, n_steps=1)
            actor_loss = -rb_workspace["critic/q_value"][0].mean()
            direct_actor_loss = -critic.model(
                torch.cat((obs[0], 2.0 * actor.model(obs[0])), 1)
            ).mean()
            _check_grads_match(
                actor_loss,
                direct_actor_loss,
                list(actor.parameters()),
                f"{what}: DDPG actor loss",
                repro,
            )
            actor_optimizer.zero_grad()
            actor_loss.backward()
            actor_optimizer.step()
            soft_update(actor, target_actor, cfg["tau"])
            soft_update(critic, target_critic, cfg["tau"])
            updates += 1
        expect(
            updates > 0, "RB-3", "the replay buffer never held enough transitions to learn", repro
        )
        expect(
            _differ(actor, target_actor) and _differ(critic, target_critic),
            CLAUSE_FOR["get_by_name"],
            "after soft updates the target networks equal the online ones: copy.deepcopy of an "
            "agent must give independent parameters",
            repro,
        )
        _eval_returns(impl, eval_agent, eval_recorder, "evaluation", repro)


def sac_pendulum(impl: Any) -> None:
    """SAC on Pendulum as the course writes it: a squashed Gaussian actor, two critics and their
    targets told apart by ``with_prefix``, an automatic entropy coefficient, and a deterministic
    evaluation policy made with ``KWAgentWrapper(actor, stochastic=False)``."""
    repro = _repro("sac_pendulum")
    course = Course.of(impl)
    cfg = {
        "n_envs": 2,
        "n_steps": 8,
        "max_epochs": 6,
        "buffer_size": 1e3,
        "batch_size": 16,
        "learning_starts": 16,
        "discount_factor": 0.98,
        "tau": 0.5,
        "lr": 1e-3,
    }
    with _seeded(7):
        recorder, eval_recorder = EnvRecorder(), EnvRecorder()
        train_env = impl.ParallelGymAgent(_pendulum(impl, recorder, True, 10), cfg["n_envs"]).seed(
            8
        )
        eval_env = impl.ParallelGymAgent(_pendulum(impl, eval_recorder, False, 10), 2).seed(9)
        obs_size, action_dim = train_env.get_obs_and_actions_sizes()
        actor = course.SquashedGaussianActor(obs_size, [16], action_dim, 2.0)
        critic_1 = course.SoftQAgent(obs_size, [16], action_dim).with_prefix("critic-1/")
        critic_2 = course.SoftQAgent(obs_size, [16], action_dim).with_prefix("critic-2/")
        target_critic_1 = copy.deepcopy(critic_1).with_prefix("target-critic-1/")
        target_critic_2 = copy.deepcopy(critic_2).with_prefix("target-critic-2/")
        eval_policy = impl.KWAgentWrapper(actor, stochastic=False)
        train_agent = impl.TemporalAgent(impl.Agents(train_env, actor))
        eval_agent = impl.TemporalAgent(impl.Agents(eval_env, eval_policy))
        t_actor = impl.TemporalAgent(actor)
        t_q_agents = impl.TemporalAgent(impl.Agents(critic_1, critic_2))
        t_target_q_agents = impl.TemporalAgent(impl.Agents(target_critic_1, target_critic_2))
        log_entropy_coef = nn.Parameter(torch.zeros(1))
        target_entropy = -float(action_dim)
        actor_optimizer = torch.optim.Adam(actor.parameters(), lr=cfg["lr"])
        critic_optimizer = torch.optim.Adam(
            [*critic_1.parameters(), *critic_2.parameters()], lr=cfg["lr"]
        )
        entropy_optimizer = torch.optim.Adam([log_entropy_coef], lr=cfg["lr"])
        rb = impl.ReplayBuffer(max_size=cfg["buffer_size"])
        gamma = cfg["discount_factor"]
        updates = 0
        for epoch in _iter_replay_buffer(
            impl,
            train_agent,
            recorder,
            rb,
            max_size=1000,
            n_epochs=int(cfg["max_epochs"]),
            n_steps=int(cfg["n_steps"]),
            learning_starts=int(cfg["learning_starts"]),
            repro=repro,
        ):
            if not epoch.ready:
                continue
            what = f"epoch {epoch.epoch}"
            rb_workspace = rb.get_shuffled(int(cfg["batch_size"]))
            ent_coef = log_entropy_coef.exp().detach()
            # Critic update
            t_q_agents(rb_workspace, t=0, n_steps=1)
            with torch.no_grad():
                t_actor(rb_workspace, t=1, n_steps=1)
                t_target_q_agents(rb_workspace, t=1, n_steps=1)
            (q_1, q_2, terminated, reward, target_q_1, target_q_2, logprobs, obs, action) = several(
                rb_workspace,
                "critic-1/q_value",
                "critic-2/q_value",
                "env/terminated",
                "env/reward",
                "target-critic-1/q_value",
                "target-critic-2/q_value",
                "action_logprobs",
                "env/env_obs",
                "action",
                what=what,
                repro=repro,
            )
            v_next = torch.minimum(target_q_1[1], target_q_2[1]) - ent_coef * logprobs[1]
            target = reward[1] + gamma * v_next * (~terminated[1]).float()
            mse = nn.functional.mse_loss
            critic_loss = mse(q_1[0], target) + mse(q_2[0], target)
            stored = torch.cat((obs[0], action[0]), 1)
            direct_1 = critic_1.model(stored).squeeze(-1)
            direct_2 = critic_2.model(stored).squeeze(-1)
            _check_grads_match(
                critic_loss,
                mse(direct_1, target) + mse(direct_2, target),
                [*critic_1.parameters(), *critic_2.parameters()],
                f"{what}: SAC critic loss",
                repro,
            )
            critic_optimizer.zero_grad()
            critic_loss.backward()  # type: ignore[no-untyped-call]
            critic_optimizer.step()
            # Actor update
            t_actor(rb_workspace, t=0, n_steps=1)
            t_q_agents(rb_workspace, t=0, n_steps=1)
            q_1, q_2, logprobs = several(
                rb_workspace,
                "critic-1/q_value",
                "critic-2/q_value",
                "action_logprobs",
                what=what,
                repro=repro,
            )
            actor_loss = (ent_coef * logprobs[0] - torch.minimum(q_1[0], q_2[0])).mean()
            expect(
                _finite_scalar(actor_loss) and tuple(logprobs.shape) == (2, cfg["batch_size"]),
                "WS-9",
                f"{what}: SAC actor loss {actor_loss!r} from action_logprobs of shape "
                f"{tuple(logprobs.shape)}",
                repro,
            )
            actor_optimizer.zero_grad()
            actor_loss.backward()  # type: ignore[no-untyped-call]
            grads = [p.grad for p in actor.parameters()]
            expect(
                all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
                and any(g is not None and bool(g.abs().sum() > 0) for g in grads),
                "WS-9",
                f"{what}: the SAC actor loss read through the workspace gives the actor no "
                "(or non-finite) gradients",
                repro,
            )
            actor_optimizer.step()
            entropy_loss = -(
                log_entropy_coef.exp() * (logprobs[0].detach() + target_entropy)
            ).mean()
            entropy_optimizer.zero_grad()
            entropy_loss.backward()  # type: ignore[no-untyped-call]
            entropy_optimizer.step()
            soft_update(critic_1, target_critic_1, cfg["tau"])
            soft_update(critic_2, target_critic_2, cfg["tau"])
            updates += 1
        expect(
            updates > 0, "RB-3", "the replay buffer never held enough transitions to learn", repro
        )
        expect(
            _differ(critic_1, target_critic_1) and _differ(critic_2, target_critic_2),
            CLAUSE_FOR["get_by_name"],
            "after soft updates the target critics equal the online ones: copy.deepcopy of an "
            "agent must give independent parameters",
            repro,
        )
        # The evaluation policy is the actor's mode; the training policy samples.
        probe = rb.get_shuffled(8)
        impl.TemporalAgent(eval_policy)(probe, t=0, n_steps=1)
        mode = probe["action"][0].clone()
        features = actor.backbone(probe["env/env_obs"][0])
        expected_mode = 2.0 * torch.tanh(actor.mean(features))
        expect(
            torch.allclose(mode, expected_mode, atol=1e-6),
            CLAUSE_FOR["kw wrapper"],
            "KWAgentWrapper(actor, stochastic=False) must call the actor with stochastic=False: "
            f"its actions {mode.flatten().tolist()} are not the actor's mode "
            f"{expected_mode.flatten().tolist()}",
            repro,
        )
        t_actor(probe, t=0, n_steps=1)
        expect(
            not torch.equal(probe["action"][0], mode),
            CLAUSE_FOR["kw wrapper"],
            "the unwrapped actor (stochastic=True by default) gave exactly the mode: the "
            "wrapper's keyword leaked into the wrapped agent",
            repro,
        )
        _eval_returns(impl, eval_agent, eval_recorder, "evaluation", repro)


# --------------------------------------------------------------------------- PPO


def gae(
    reward: torch.Tensor,
    next_value: torch.Tensor,
    must_bootstrap: torch.Tensor,
    value: torch.Tensor,
    keep: torch.Tensor,
    gamma: float,
    lam: float,
) -> torch.Tensor:
    """Generalized advantage estimates of the pairs ``(t, t + 1)``, all arguments ``[T-1, B]``;
    ``keep[t]`` is 0 where the pair ``t + 1`` belongs to another episode."""
    delta = reward + gamma * next_value * must_bootstrap - value
    advantage = torch.zeros_like(delta)
    running = torch.zeros_like(delta[0])
    for t in reversed(range(delta.shape[0])):
        running = delta[t] + gamma * lam * keep[t] * running
        advantage[t] = running
    return advantage


def _ppo(impl: Any, name: str, minibatches: str) -> None:
    """PPO-clip on CartPole as the course writes it (``EpisodicAlgo`` with autoreset and
    ``iter_partial_episodes``): old policy and old critic as deep copies told apart by
    ``with_prefix``, advantages
    written with ``set_full``, and minibatches taken either from the transitions with
    ``select_batch`` or as time windows with ``get_time_truncated_workspace``."""
    repro = _repro(name)
    course = Course.of(impl)
    cfg = {
        "n_envs": 2,
        "n_steps": 8,
        "max_epochs": 4,
        "opt_epochs": 2,
        "minibatch": 6,
        "window": 3,
        "discount_factor": 0.99,
        "gae": 0.9,
        "clip_range": 0.2,
        "lr": 1e-2,
    }
    gamma, lam = cfg["discount_factor"], cfg["gae"]
    n_steps = int(cfg["n_steps"])
    with _seeded(11):
        recorder = EnvRecorder()
        # Episodes cut at 6 steps: truncations (bootstrapped) and autoresets in every epoch.
        train_env = impl.ParallelGymAgent(
            partial(
                impl.make_env,
                "CartPole-v1",
                autoreset=True,
                wrappers=[_time_limit(6), recorder.wrap],
            ),
            cfg["n_envs"],
        ).seed(12)
        obs_size, n_actions = train_env.get_obs_and_actions_sizes()
        policy = course.DiscretePolicy(obs_size, [16], n_actions).with_prefix("current_policy/")
        old_policy = copy.deepcopy(policy).with_prefix("old_policy/")
        critic = course.VAgent(obs_size, [16]).with_prefix("critic/")
        old_critic = copy.deepcopy(critic).with_prefix("old_critic/")
        train_agent = impl.TemporalAgent(impl.Agents(train_env, policy))
        t_policy, t_old_policy = impl.TemporalAgent(policy), impl.TemporalAgent(old_policy)
        t_critic, t_old_critic = impl.TemporalAgent(critic), impl.TemporalAgent(old_critic)
        policy_optimizer = torch.optim.Adam(policy.parameters(), lr=cfg["lr"])
        critic_optimizer = torch.optim.Adam(critic.parameters(), lr=cfg["lr"])
        train_workspace = impl.Workspace()
        collected: collections.Counter[Any] = collections.Counter()
        for epoch in range(int(cfg["max_epochs"])):
            what = f"epoch {epoch}"
            if epoch > 0:
                train_workspace.zero_grad()
                train_workspace.copy_n_last_steps(1)
                train_agent(train_workspace, t=1, n_steps=n_steps - 1)
            else:
                train_agent(train_workspace, t=0, n_steps=n_steps)
            recorder.check_rows(
                train_workspace,
                autoreset=True,
                first_row=0 if epoch == 0 else 1,
                setting=what,
                repro=repro,
            )
            with torch.no_grad():
                t_old_policy(train_workspace, t=0, n_steps=n_steps, predict_proba=True)
            t_critic(train_workspace, t=0, n_steps=n_steps)
            with torch.no_grad():
                t_old_critic(train_workspace, t=0, n_steps=n_steps)
            terminated, done, reward, v_value, old_v_value = several(
                train_workspace,
                "env/terminated",
                "env/done",
                "env/reward",
                "critic/v_values",
                "old_critic/v_values",
                what=what,
                repro=repro,
            )
            must_bootstrap = (~terminated[1:]).float()
            valid = ~done[:-1]  # pairs starting at a done row span two episodes
            target = reward[1:] + gamma * old_v_value[1:] * must_bootstrap
            critic_loss = (v_value[:-1] - target).pow(2)[valid].mean()
            direct_v = critic.model(train_workspace["env/env_obs"]).squeeze(-1)
            _check_grads_match(
                critic_loss,
                (direct_v[:-1] - target).pow(2)[valid].mean(),
                list(critic.parameters()),
                f"{what}: PPO critic loss",
                repro,
            )
            critic_optimizer.zero_grad()
            critic_loss.backward()  # type: ignore[no-untyped-call]
            critic_optimizer.step()
            with torch.no_grad():
                advantage = gae(
                    reward[1:],
                    old_v_value[1:],
                    must_bootstrap,
                    old_v_value[:-1],
                    (~done[1:]).float(),
                    gamma,
                    lam,
                )
            train_workspace.set_full(
                "advantage", torch.cat((advantage, torch.zeros(1, advantage.shape[1])))
            )
            expect_equal_tensors(
                train_workspace["advantage"],
                torch.cat((advantage, torch.zeros(1, advantage.shape[1]))),
                CLAUSE_FOR["set_full"],
                f"{what}: train_workspace['advantage'] after set_full('advantage', ...)",
                repro,
            )
            transitions = train_workspace.get_transitions()
            collected += transitions_of(transitions)
            expect_equal_tensors(
                transitions["advantage"][0],
                advantage[valid],
                "TR-3",
                f"{what}: the advantages of the transitions (row 0) must be those of the pairs "
                "that do not start at a done row, time-major then by env",
                repro,
            )
            first = True
            for opt_epoch in range(int(cfg["opt_epochs"])):
                if minibatches == "select_batch":
                    samples = _select_batch_minibatches(
                        transitions, int(cfg["minibatch"]), f"{what}.{opt_epoch}", repro
                    )
                else:
                    samples = _time_window_minibatches(
                        train_workspace,
                        transitions,
                        int(cfg["window"]),
                        f"{what}.{opt_epoch}",
                        repro,
                    )
                for sample in samples:
                    if sample.batch_size() == 0:  # a window whose pairs all start at a done row
                        continue
                    t_policy(sample, t=0, n_steps=1, predict_proba=True, compute_entropy=True)
                    logprob, old_logprob, sample_advantage, entropy = several(
                        sample,
                        "current_policy/logprob_predict",
                        "old_policy/logprob_predict",
                        "advantage",
                        "current_policy/entropy",
                        what=what,
                        repro=repro,
                    )
                    ratio = (logprob[0] - old_logprob[0]).exp()
                    if first:
                        expect(
                            torch.allclose(ratio, torch.ones_like(ratio), atol=1e-5),
                            "WS-6",
                            f"{what}: before any policy update the policy and the old policy "
                            f"(copied from it) give different probabilities: ratio = "
                            f"{ratio.tolist()}",
                            repro,
                        )
                        first = False
                    clipped = ratio.clamp(1 - cfg["clip_range"], 1 + cfg["clip_range"])
                    policy_loss = (
                        -torch.minimum(
                            ratio * sample_advantage[0], clipped * sample_advantage[0]
                        ).mean()
                        - 0.01 * entropy[0].mean()
                    )
                    expect(
                        _finite_scalar(policy_loss),
                        "WS-9",
                        f"{what}: PPO policy loss {policy_loss!r}",
                        repro,
                    )
                    policy_optimizer.zero_grad()
                    policy_loss.backward()  # type: ignore[no-untyped-call]
                    policy_optimizer.step()
            copy_parameters(policy, old_policy)
            copy_parameters(critic, old_critic)
        extra, missing = counter_difference(collected, recorder.transitions())
        expect(
            extra == missing == 0,
            "TR-10",
            f"PPO epochs: get_transitions() gave {extra} transitions the envs did not perform "
            f"(or gave more than once) and missed {missing} they did",
            repro,
        )
        expect(
            not _differ(policy, old_policy),
            "AG-5",
            "after copy_parameters(policy, old_policy) the two differ",
            repro,
        )


def _select_batch_minibatches(transitions: Any, size: int, what: str, repro: str) -> Iterator[Any]:
    """Shuffled minibatches of the transitions through ``select_batch``, each checked against
    the columns it must hold."""
    n = transitions.batch_size()
    order = torch.randperm(n)
    for start in range(0, n, size):
        index = order[start : start + size]
        sample = transitions.select_batch(index)
        for key in sorted(transitions.keys()):
            expect_equal_tensors(
                sample[key].detach(),
                transitions[key].detach()[:, index],
                CLAUSE_FOR["select_batch"],
                f"{what}: transitions.select_batch({index.tolist()})[{key!r}] must be columns "
                f"{index.tolist()} of transitions[{key!r}]",
                repro,
            )
        yield sample


def _time_window_minibatches(
    workspace: Any, transitions: Any, window: int, what: str, repro: str
) -> Iterator[Any]:
    """Minibatches as time windows of the rollout: ``get_time_truncated_workspace(start,
    start + window + 1)`` overlaps the next window by one row, so the transitions of all
    windows are exactly those of the whole rollout."""
    T = workspace.time_size()
    pieces: collections.Counter[Any] = collections.Counter()
    for start in range(0, T - 1, window):
        end = min(start + window + 1, T)
        piece = workspace.get_time_truncated_workspace(start, end)
        for key in sorted(workspace.keys()):
            expect_equal_tensors(
                piece[key].detach(),
                workspace[key].detach()[start:end],
                CLAUSE_FOR["time window"],
                f"{what}: get_time_truncated_workspace({start}, {end})[{key!r}] must be rows "
                f"{start}..{end - 1} of the workspace",
                repro,
            )
        piece_transitions = piece.get_transitions()
        pieces += transitions_of(piece_transitions)
        yield piece_transitions
    extra, missing = counter_difference(pieces, transitions_of(transitions))
    expect(
        extra == missing == 0,
        CLAUSE_FOR["time window"],
        f"{what}: the transitions of the time windows differ from those of the whole rollout "
        f"({extra} extra, {missing} missing)",
        repro,
    )


def ppo_cartpole_select_batch(impl: Any) -> None:
    """PPO-clip on CartPole with minibatches drawn by ``select_batch``."""
    _ppo(impl, "ppo_cartpole_select_batch", "select_batch")


def ppo_cartpole_time_windows(impl: Any) -> None:
    """PPO-clip on CartPole with minibatches cut by ``get_time_truncated_workspace``."""
    _ppo(impl, "ppo_cartpole_time_windows", "time")


# --------------------------------------------------------------------------- saving agents


def save_and_load_agent(impl: Any) -> None:
    """A critic trained a little, saved with ``save_model`` and loaded with ``load_model`` into
    a fresh agent (as the course keeps its best agents), gives the same outputs."""
    repro = _repro("save_and_load_agent")
    course = Course.of(impl)
    with _seeded(13):
        env_agent = impl.ParallelGymAgent(
            partial(impl.make_env, "CartPole-v1", autoreset=True), 2
        ).seed(14)
        obs_size, n_actions = env_agent.get_obs_and_actions_sizes()
        critic = course.DiscreteQAgent(obs_size, [16], n_actions, name="critic")
        workspace = impl.Workspace()
        impl.TemporalAgent(impl.Agents(env_agent, critic, course.ArgmaxActionSelector("critic")))(
            workspace, t=0, n_steps=6
        )
        optimizer = torch.optim.SGD(critic.parameters(), lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            loss = critic.model(workspace["env/env_obs"]).pow(2).mean()
            loss.backward()
            optimizer.step()
        with tempfile.TemporaryDirectory() as folder:
            filename = str(Path(folder) / "critic.agt")
            critic.save_model(filename)
            fresh = course.DiscreteQAgent(obs_size, [16], n_actions, name="critic")
            loaded = fresh.load_model(filename)
        expect(
            isinstance(loaded, impl.Agent),
            CLAUSE_FOR["save/load"],
            f"load_model returned {type(loaded).__name__}, not an Agent",
            repro,
        )
        for key, value in critic.state_dict().items():
            expect_equal_tensors(
                loaded.state_dict()[key],
                value,
                CLAUSE_FOR["save/load"],
                f"parameter {key!r} of the loaded agent",
                repro,
            )
        outputs = []
        for agent in (critic, loaded):
            probe = impl.Workspace()
            probe.set_full("env/env_obs", workspace["env/env_obs"].clone())
            impl.TemporalAgent(agent)(probe, t=0, n_steps=probe.time_size())
            outputs.append(probe["critic/q_values"].detach())
        expect_equal_tensors(
            outputs[1],
            outputs[0],
            CLAUSE_FOR["save/load"],
            "the loaded agent's critic/q_values on the rollout's observations (the saved agent's "
            "expected)",
            repro,
        )


# --------------------------------------------------------------------------- registry

# The clauses EnvRecorder.check_rows names: every program that checks env rows cites them.
_ROWS = ("ENV-3", "ENV-4", "ENV-6", "ENV-7")

PROGRAMS: dict[str, Program] = {
    p.name: p
    for p in (
        Program(
            "notebook01_fibonacci",
            notebook01_fibonacci,
            ("AG-2", "AG-3", "AG-4", "TA-1", "WS-6", "WS-12"),
            (),
            "notebook 01: agents writing a sequence, TemporalAgent from t=0 and t=1",
        ),
        Program(
            "notebook01_stop_variable",
            notebook01_stop_variable,
            ("TA-2", "AG-4"),
            ("float stop variable", "PrintAgent"),
            "notebook 01: a float stop variable and a PrintAgent",
        ),
        Program(
            "notebook02_step_by_hand",
            notebook02_step_by_hand,
            ("ENV-1", "ENV-2", "ENV-12", *_ROWS),
            ("make_env(wrappers=)", "ParallelGymAgent(reward_at_t=False)"),
            "notebook 02: three CartPole envs with a TimeLimit wrapper, reset and step by hand",
        ),
        Program(
            "notebook02_episodes",
            notebook02_episodes,
            ("TA-2", "ENV-8", "ENV-14", "WS-13", *_ROWS),
            ("make_env(wrappers=)", "ParallelGymAgent(reward_at_t=False)"),
            "notebook 02: episodes without autoreset, until every env is done",
        ),
        Program(
            "notebook03_autoreset",
            notebook03_autoreset,
            ("TR-1", "TR-2", "TR-3", "TR-10", "RB-3", "RB-8", "RB-9", "ENV-5", *_ROWS),
            (),
            "notebook 03: autoreset, transitions, replay buffer, the epoch loop",
        ),
        Program(
            "dqn_cartpole",
            dqn_cartpole,
            ("TR-10", "RB-3", "WS-6", "WS-9", "AG-5", *_ROWS),
            (
                "ws[name, name, ...]",
                "Agent(name=)",
                "Agent.name",
                "set_name",
                "get_by_name",
                "TemporalAgent.agent",
                "ReplayBuffer(float max_size)",
                "make_env(wrappers=)",
            ),
            "DQN: epsilon-greedy found by name, target critic, replay buffer, critic loss",
        ),
        Program(
            "ddpg_pendulum",
            ddpg_pendulum,
            ("TR-10", "RB-3", "WS-6", "WS-9", "AG-5", *_ROWS),
            (
                "ws[name, name, ...]",
                "Agent(name=)",
                "Agent.name",
                "set_name",
                "ReplayBuffer(float max_size)",
                "make_env(wrappers=)",
            ),
            "DDPG: noisy deterministic actor, critic, targets, soft updates",
        ),
        Program(
            "sac_pendulum",
            sac_pendulum,
            ("TR-10", "RB-3", "WS-6", "WS-9", "AG-2", "AG-5", *_ROWS),
            (
                "ws[name, name, ...]",
                "with_prefix",
                "KWAgentWrapper",
                "ReplayBuffer(float max_size)",
                "make_env(wrappers=)",
            ),
            "SAC: two critics and targets, entropy coefficient, KWAgentWrapper evaluation",
        ),
        Program(
            "ppo_cartpole_select_batch",
            ppo_cartpole_select_batch,
            ("TR-2", "TR-3", "TR-10", "WS-6", "WS-9", "WS-11", "AG-5", *_ROWS),
            ("ws[name, name, ...]", "with_prefix", "select_batch", "make_env(wrappers=)"),
            "PPO-clip: old policy and critic, GAE, minibatches by select_batch",
        ),
        Program(
            "ppo_cartpole_time_windows",
            ppo_cartpole_time_windows,
            ("TR-2", "TR-3", "TR-10", "WS-6", "WS-9", "WS-11", "AG-5", *_ROWS),
            (
                "ws[name, name, ...]",
                "with_prefix",
                "get_time_truncated_workspace",
                "make_env(wrappers=)",
            ),
            "PPO-clip: minibatches as time windows by get_time_truncated_workspace",
        ),
        Program(
            "save_and_load_agent",
            save_and_load_agent,
            ("AG-5",),
            ("Agent(name=)", "Agent.name", "save_model", "load_model"),
            "a trained agent saved with save_model and loaded with load_model",
        ),
    )
}


def run(name: str, impl: Any) -> None:
    """Run the program ``name`` against the implementation module ``impl`` (its checks raise
    ConformanceFailure)."""
    if name not in PROGRAMS:
        raise KeyError(f"run: no program {name!r}; the programs are {', '.join(PROGRAMS)}")
    PROGRAMS[name].run(impl)
