"""The BBRL notebook 03 (multi-env, autoreset=True), run against bbrl_reference.

Everything the notebook does, in order: a single CartPole env, the workspace content, the
transitions of one env, the transition workspace reused by an agent, three envs and the
time-major/env ordering of the transitions, the replay buffer, and the epoch loop with
`copy_n_last_steps(1)`. Then the notebook's exercise, answered: an agent that always plays action
1, 10 epochs of 100 steps on 2 envs, a replay buffer of 5000, and the number of episodes counted
two ways (done flags in the workspace; env steps minus replay-buffer size), which must agree.

The notebook's exercise cell has slips that this script does not copy: it builds 1 env with a
RandomAgent instead of 2 envs with the OneAgent, and its `for` around the `while` runs the
epochs only once. The script also uses a fresh workspace for the epoch loop; see
`STALE_ROWS_NOTE` for what reusing the 15-row workspace does.

    python examples/multi_env_autoreset.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from bbrl_reference import (
    Agent,
    Agents,
    ParallelGymAgent,
    ReplayBuffer,
    TemporalAgent,
    Workspace,
    make_env,
)

SEED = 2139  # the notebook's env seed
STALE_ROWS_NOTE = (
    "note: the notebook runs this loop in the 3-env workspace left by its 15-step cell. A "
    "TemporalAgent writes rows t..t+n-1 and never shrinks a workspace, so that workspace keeps "
    "15 rows: rows 10..14 (then 11..14) are leftovers of the old rollout, harvested again by "
    "every get_transitions(), and copy_n_last_steps(1) copies stale row 14 into row 0. That is "
    "why the notebook prints about 14*3 steps per epoch (41, 82, 122) for epochs of 10 steps. "
    "The loop below uses a fresh workspace: 9*3, then 10*3 pairs per epoch, minus the pairs "
    "that start at a done."
)


class RandomAgent(Agent):
    """Writes a uniformly random action (the notebook's RandomAgent)."""

    def __init__(self, action_dim: int) -> None:
        super().__init__()
        self.action_dim = action_dim

    def forward(self, t: int, **kwargs: Any) -> None:
        obs = self.get(("env/env_obs", t))
        self.set(("action", t), torch.randint(0, self.action_dim, (len(obs),)))


class OneAgent(Agent):
    """Always writes action 1 (the exercise's "stupid agent")."""

    def forward(self, t: int, **kwargs: Any) -> None:
        obs = self.get(("env/env_obs", t))
        self.set(("action", t), torch.ones(len(obs), dtype=torch.int64))


def cartpole(num_envs: int) -> ParallelGymAgent:
    return ParallelGymAgent(
        partial(make_env, env_name="CartPole-v1", autoreset=True), num_envs
    ).seed(SEED)


def show(title: str, value: object) -> None:
    print(f"{title}\n{value}")


def single_env() -> Workspace:
    """Cells 5-11: one env, the workspace, its transitions, an agent run on the transitions."""
    env_agent = cartpole(1)
    obs_size, action_dim = env_agent.get_obs_and_actions_sizes()
    print(f"Environment: observation space in R^{obs_size} and action space R^{action_dim}")
    t_agents = TemporalAgent(Agents(env_agent, RandomAgent(action_dim)))
    workspace = Workspace()
    t_agents(workspace, n_steps=15)
    for key in workspace.variables.keys():  # noqa: SIM118 (the notebook's spelling)
        print(key, tuple(workspace[key].shape), workspace[key].dtype)

    transitions = workspace.get_transitions()
    show("Observations (first 4)", workspace["env/env_obs"][:4])
    print("Transitions (first 4)")
    for t in range(4):
        show(f"(s_{t}, s_{t + 1})", transitions["env/env_obs"][:, t])

    # A transition workspace is a workspace of 2 time steps: agents run on it too.
    before = transitions["action"].clone()
    TemporalAgent(RandomAgent(action_dim))(transitions, t=0, n_steps=2)
    changed = int((before != transitions["action"]).sum())
    print(f"new action written over the transitions ({changed} of {before.numel()} changed)")
    return workspace


def three_envs() -> tuple[TemporalAgent, Workspace]:
    """Cell 12: three envs; columns of the transitions are time-major, then env."""
    env_agent = cartpole(3)
    _, action_dim = env_agent.get_obs_and_actions_sizes()
    t_agents = TemporalAgent(Agents(env_agent, RandomAgent(action_dim)))
    workspace = Workspace()
    t_agents(workspace, n_steps=15)
    transitions = workspace.get_transitions()
    show("Observations (first 4)", workspace["env/env_obs"][:4])
    for j in range(3):
        show(f"transition column {j} = env {j}, (s_0, s_1)", transitions["env/env_obs"][:, j])
    return t_agents, workspace


def replay_buffer(workspace: Workspace) -> ReplayBuffer:
    """Cell 18: the replay buffer keeps columns [:, i] of the transition workspace."""
    rb = ReplayBuffer(max_size=80)
    rb.put(workspace.get_transitions())
    show("3 sampled (s_t, s_t+1) pairs", rb.get_shuffled(3)["env/env_obs"])
    return rb


def epoch_loop(t_agents: TemporalAgent, old: Workspace, rb: ReplayBuffer) -> None:
    """Cell 19: several epochs, each one's data put into the replay buffer."""
    t_agents(old, t=0, n_steps=10)
    print(
        f"a 10-step rollout into the old 15-step workspace leaves time_size() = "
        f"{old.time_size()} and {old.get_transitions()['action'].shape[1]} pairs"
    )
    print(STALE_ROWS_NOTE)
    workspace = Workspace()
    nb_steps, max_steps, epoch_size = 0, 100, 10
    while nb_steps < max_steps:
        if nb_steps == 0:
            t_agents(workspace, t=0, n_steps=epoch_size)
        else:
            workspace.zero_grad()
            workspace.copy_n_last_steps(1)
            t_agents(workspace, t=1, n_steps=epoch_size)
        transition_workspace = workspace.get_transitions()
        nb_steps += transition_workspace["action"][0].shape[0]
        print(f"collecting new epoch, already performed {nb_steps} steps")
        rb.put(transition_workspace)
        print(f"replay buffer size: {rb.size()}")


@dataclass
class ExerciseCounts:
    """The exercise's answer: episodes counted from done flags and from the replay buffer."""

    episodes_per_env: list[int]  # done flags in the workspace, before get_transitions
    episodes_from_dones: int
    env_steps: int  # pairs (t, t+1) of every env: one env step each
    rb_size: int
    episodes_from_buffer: int  # env_steps - rb_size
    last_row_dones: int  # episodes ending in the very last row (not yet dropped from any pair)


def exercise(
    n_envs: int = 2, epoch_size: int = 100, n_epochs: int = 10, verbose: bool = True
) -> ExerciseCounts:
    """The exercise: OneAgent, `n_epochs` epochs of `epoch_size` steps over `n_envs` envs."""
    env_agent = cartpole(n_envs)
    t_agents = TemporalAgent(Agents(env_agent, OneAgent()))
    workspace = Workspace()
    rb = ReplayBuffer(max_size=5000)
    per_env = torch.zeros(n_envs, dtype=torch.int64)
    env_steps = 0
    for epoch in range(n_epochs):
        if epoch == 0:
            t_agents(workspace, t=0, n_steps=epoch_size)
        else:
            workspace.zero_grad()
            workspace.copy_n_last_steps(1)
            t_agents(workspace, t=1, n_steps=epoch_size)
        # Method 1: done flags, counted before get_transitions. Row 0 of a later epoch is the
        # copy of the previous last row, already counted, so count rows 1.. after the first.
        done = workspace["env/done"]
        per_env += done[0 if epoch == 0 else 1 :].sum(dim=0)
        # Every pair (t, t+1) of every env is one env step (the step out of a done row is the
        # autoreset, the one get_transitions drops).
        env_steps += (workspace.time_size() - 1) * n_envs
        rb.put(workspace.get_transitions())
        if verbose:
            print(
                f"epoch {epoch}: T={workspace.time_size()}, env steps {env_steps}, "
                f"replay buffer size {rb.size()}, episodes so far {per_env.tolist()}"
            )
    # An episode that ends in the final row has not dropped a pair yet: its autoreset step
    # belongs to the next epoch. Method 2 misses exactly those.
    last_row_dones = int(workspace["env/done"][-1].sum())
    counts = ExerciseCounts(
        episodes_per_env=per_env.tolist(),
        episodes_from_dones=int(per_env.sum()),
        env_steps=env_steps,
        rb_size=rb.size(),
        episodes_from_buffer=env_steps - rb.size(),
        last_row_dones=last_row_dones,
    )
    if verbose:
        print(
            f"method 1 (done flags): {counts.episodes_per_env} per env, "
            f"{counts.episodes_from_dones} in total"
        )
        print(
            f"method 2 (env steps - buffer size): {counts.env_steps} - {counts.rb_size} = "
            f"{counts.episodes_from_buffer}, plus {last_row_dones} ending in the last row"
        )
        agree = counts.episodes_from_buffer + last_row_dones == counts.episodes_from_dones
        print(f"consistent: {agree}")
        print(
            "Can method 2 count the episodes of one env? No: get_transitions flattens the "
            "envs into one batch of pairs and the buffer keeps no env index, so the missing "
            "pairs give only the total over all envs."
        )
    return counts


def main() -> int:
    torch.manual_seed(0)  # the notebook does not seed torch; this makes the run repeatable
    single_env()
    t_agents, workspace = three_envs()
    rb = replay_buffer(workspace)
    epoch_loop(t_agents, workspace, rb)
    counts = exercise()
    ok = counts.episodes_from_buffer + counts.last_row_dones == counts.episodes_from_dones
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
