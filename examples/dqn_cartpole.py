"""DQN on CartPole-v1 with bbrl_reference, in the style of the BBRL notebooks.

The Q-network is an `Agent` (epsilon-greedy at rollout time); the env agent is a
`ParallelGymAgent` with autoreset; data is collected in epochs with the notebook's loop (t=0
first, then `zero_grad()`, `copy_n_last_steps(1)` and a rollout from t=1), turned into
transitions with `get_transitions()` and stored in a `ReplayBuffer`. Learning samples with
`get_shuffled`, runs the online and target Q agents on the sampled `[2, batch]` workspace and
bootstraps with `env/terminated` (a truncated episode is not an end of the MDP). Double DQN
target, hard target-network copies, Huber loss.

    python examples/dqn_cartpole.py --seeds 0 1 2 3 4     # the full runs
    python examples/dqn_cartpole.py --steps 2000          # a quick look
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Any

import torch
from _common import (
    TARGET_RETURN,
    Evaluator,
    Progress,
    RunResult,
    apply_overrides,
    build_parser,
    episode_stats,
    flat_params,
    mlp,
    seed_everything,
    seeds_of,
    train_env_agent,
    write_outputs,
)
from bbrl_reference import Agent, Agents, ReplayBuffer, TemporalAgent, Workspace
from torch import nn


@dataclass
class DQNConfig:
    """Hyper-parameters (tuned for CartPole-v1 within a 100k-step budget)."""

    steps: int = 100_000
    num_envs: int = 8
    epoch_steps: int = 32  # rollout steps per epoch and env (256 env steps per epoch)
    hidden: int = 128
    lr: float = 1e-3
    gamma: float = 0.99
    batch_size: int = 64
    buffer_size: int = 100_000
    learning_starts: int = 1_000  # env steps before the first gradient step
    grad_steps_per_epoch: int = 64  # one gradient step per four env steps
    target_every: int = 64  # gradient steps between hard target copies (once per epoch)
    eps_start: float = 1.0
    eps_end: float = 0.04
    eps_decay_steps: int = 10_000  # env steps of linear decay from eps_start to eps_end
    max_grad_norm: float = 10.0
    backend: str = "sync"  # the training env agent's backend (--backend)
    eval_every: int = 5_000
    eval_envs: int = 10


class QAgent(Agent):
    """Writes `q_values` (or `<prefix>q_values`) and, when acting, an epsilon-greedy `action`."""

    def __init__(self, obs_size: int, n_actions: int, hidden: int, prefix: str = "") -> None:
        super().__init__()
        self.net = mlp([obs_size, hidden, hidden, n_actions])
        self.n_actions = n_actions
        self.prefix = prefix

    def forward(self, t: int, epsilon: float = 0.0, act: bool = True, **kwargs: Any) -> None:
        obs = self.get(("env/env_obs", t))
        q_values = self.net(obs)
        self.set((f"{self.prefix}q_values", t), q_values)
        if act:
            action = q_values.argmax(dim=1)
            if epsilon > 0.0:
                explore = torch.rand(action.shape) < epsilon
                random_action = torch.randint(0, self.n_actions, action.shape)
                action = torch.where(explore, random_action, action)
            self.set(("action", t), action)


def epsilon_at(cfg: DQNConfig, steps: int) -> float:
    frac = min(1.0, steps / max(1, cfg.eps_decay_steps))
    return cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)


def dqn_loss(
    cfg: DQNConfig, t_q: TemporalAgent, t_target: TemporalAgent, rb_ws: Workspace
) -> torch.Tensor:
    """Double DQN loss on a `[2, batch]` workspace sampled from the replay buffer."""
    t_q(rb_ws, t=0, n_steps=2, act=False)  # online q at rows 0 and 1 (with grad)
    with torch.no_grad():
        t_target(rb_ws, t=1, n_steps=1, act=False)  # target q at row 1 only
    q_values = rb_ws["q_values"]
    action = rb_ws["action"][0]
    q_taken = q_values[0].gather(1, action.unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        best_next = q_values[1].argmax(dim=1, keepdim=True)
        next_q = rb_ws["target/q_values"][1].gather(1, best_next).squeeze(1)
        not_terminal = (~rb_ws["env/terminated"][1]).float()
        target = rb_ws["env/reward"][1] + cfg.gamma * not_terminal * next_q
    return nn.functional.smooth_l1_loss(q_taken, target)


def train(cfg: DQNConfig, seed: int, quiet: bool = False) -> RunResult:
    """One DQN run; returns the eval curve, steps to the target, losses and wall time."""
    seed_everything(seed)
    env_agent = train_env_agent(cfg.num_envs, seed, cfg.backend)
    obs_size, n_actions = env_agent.get_obs_and_actions_sizes()
    q_agent = QAgent(obs_size, n_actions, cfg.hidden)
    target_agent = QAgent(obs_size, n_actions, cfg.hidden, prefix="target/")
    target_agent.net.load_state_dict(q_agent.net.state_dict())
    collect = TemporalAgent(Agents(env_agent, q_agent))
    t_q, t_target = TemporalAgent(q_agent), TemporalAgent(target_agent)
    evaluate = Evaluator(q_agent, cfg.eval_envs, seed + 10_000)
    optimizer = torch.optim.Adam(q_agent.parameters(), lr=cfg.lr)
    rb = ReplayBuffer(max_size=cfg.buffer_size)

    result = RunResult("dqn", seed)
    progress = Progress(f"dqn seed {seed}", cfg.steps, quiet=quiet)
    initial = flat_params(q_agent)
    workspace = Workspace()
    steps, grad_steps, epoch, next_eval, last_eval = 0, 0, 0, 0, None
    while steps < cfg.steps:
        with torch.no_grad():
            eps = epsilon_at(cfg, steps)
            if steps == 0:
                collect(workspace, t=0, n_steps=cfg.epoch_steps, epsilon=eps)
            else:
                workspace.zero_grad()
                workspace.copy_n_last_steps(1)
                collect(workspace, t=1, n_steps=cfg.epoch_steps, epsilon=eps)
        # Every pair (t, t+1) of every env is one env step, kept or not by get_transitions.
        steps += (workspace.time_size() - 1) * cfg.num_envs
        n_done, returns = episode_stats(workspace, first_row=0 if epoch == 0 else 1)
        epoch += 1
        result.episodes += n_done
        transitions = workspace.get_transitions()
        rb.put(transitions)

        if steps >= cfg.learning_starts:
            for _ in range(cfg.grad_steps_per_epoch):
                loss = dqn_loss(cfg, t_q, t_target, rb.get_shuffled(cfg.batch_size))
                optimizer.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(q_agent.parameters(), cfg.max_grad_norm)
                optimizer.step()
                result.losses.append(float(loss.detach()))
                grad_steps += 1
                if grad_steps % cfg.target_every == 0:
                    target_agent.net.load_state_dict(q_agent.net.state_dict())

        if steps >= next_eval or steps >= cfg.steps:
            last_eval = evaluate()
            result.record_eval(steps, last_eval)
            next_eval += cfg.eval_every
        progress.update(steps, result.episodes, returns, last_eval)
    env_agent.close()  # the async backend's worker processes
    result.wall_s = progress.elapsed()
    result.params_changed = not torch.equal(initial, flat_params(q_agent))
    progress.update(steps, result.episodes, [], last_eval, force=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser(__doc__.splitlines()[0], DQNConfig.steps).parse_args(argv)
    torch.set_num_threads(1)  # small networks: extra threads only add synchronisation cost
    cfg = DQNConfig(
        steps=args.steps,
        eval_every=args.eval_every,
        eval_envs=args.eval_envs,
        backend=args.backend,
    )
    cfg = apply_overrides(cfg, args.hp)
    results = [train(cfg, seed, quiet=args.quiet) for seed in seeds_of(args)]
    for r in results:
        print(
            f"dqn seed {r.seed}: steps to {TARGET_RETURN:.0f}: {r.steps_to_target}, "
            f"final eval {r.eval_returns[-1]:.1f}, wall {r.wall_s:.1f}s"
        )
    path = write_outputs(args.out, "dqn", asdict(cfg), results, plot=not args.no_plot)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
