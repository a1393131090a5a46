"""A2C on CartPole-v1 with bbrl_reference: autograd through the workspace.

During each rollout the actor agent writes `action` and its log-probability `logprob` (with
grad), and the critic agent writes `critic/value` (with grad), one row per time step, with
`self.set((name, t), ...)`. After the rollout, the losses read the workspace back
(`get_transitions()`, `workspace["logprob"]`) and `backward()` reaches both networks through
every row written: the pattern the spec's autograd clause protects. Critic: one-step TD on the
pairs from `get_transitions()`, bootstrapping with `env/terminated`. Actor: policy gradient on
`workspace["logprob"]` with GAE(lambda) advantages built from the same TD errors, normalised
per update, plus an entropy bonus. (With the bare one-step TD error as advantage the policy
collapsed to one action within ~30 updates on every try: the young critic's error correlates
with the action taken, so one action is favoured before the critic is any good; see README.)

The epoch loop is the notebook's (t=0 first, then `zero_grad()`, `copy_n_last_steps(1)`, a
rollout from t=1). Row 0 of a later epoch is a detached copy of the previous last row, so the
actor and critic are re-run on row 0 alone (no env step) to give that row a graph again.

    python examples/a2c_cartpole.py --seeds 0 1 2 3 4     # the full runs
    python examples/a2c_cartpole.py --steps 5000          # a quick look
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
from bbrl_reference import Agent, Agents, TemporalAgent, Workspace
from torch import nn


@dataclass
class A2CConfig:
    """Hyper-parameters (CartPole-v1 within a 300k-step budget)."""

    steps: int = 300_000
    num_envs: int = 8
    epoch_steps: int = 16  # rollout steps per epoch and env (128 env steps per update)
    hidden: int = 64
    lr: float = 1e-3
    gamma: float = 0.99
    critic_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5
    gae_lambda: float = 0.95
    normalize_advantage: bool = True
    backend: str = "sync"  # the training env agent's backend (--backend)
    eval_every: int = 5_000
    eval_envs: int = 10


class ActorAgent(Agent):
    """Softmax policy: writes `action` (sampled, or greedy) and `logprob`, `entropy` with grad."""

    def __init__(self, obs_size: int, n_actions: int, hidden: int) -> None:
        super().__init__()
        self.net = mlp([obs_size, hidden, hidden, n_actions], activation=nn.Tanh)

    def forward(self, t: int, stochastic: bool = True, replay: bool = False, **kwargs: Any) -> None:
        logits = self.net(self.get(("env/env_obs", t)))
        log_probs = torch.log_softmax(logits, dim=-1)
        if replay:  # re-score the action already in the workspace
            action = self.get(("action", t))
        elif stochastic:
            action = torch.multinomial(log_probs.exp(), 1).squeeze(1)
        else:
            action = logits.argmax(dim=1)
        self.set(("action", t), action)
        self.set(("logprob", t), log_probs.gather(1, action.unsqueeze(1)).squeeze(1))
        self.set(("entropy", t), -(log_probs.exp() * log_probs).sum(dim=-1))


class CriticAgent(Agent):
    """State-value network: writes `critic/value` with grad."""

    def __init__(self, obs_size: int, hidden: int) -> None:
        super().__init__()
        self.net = mlp([obs_size, hidden, hidden, 1], activation=nn.Tanh)

    def forward(self, t: int, **kwargs: Any) -> None:
        self.set(("critic/value", t), self.net(self.get(("env/env_obs", t))).squeeze(-1))


def a2c_losses(cfg: A2CConfig, workspace: Workspace) -> tuple[torch.Tensor, torch.Tensor]:
    """(critic loss, actor loss) from a rollout workspace whose rows all carry a graph.

    Critic: one-step TD on `get_transitions()` pairs. Actor: `workspace["logprob"]` `[T, B]`
    weighted by GAE(lambda) advantages built from the same one-step TD errors, over the pairs
    get_transitions keeps (a pair starting at a done row is the autoreset step: masked out, and
    the advantage recursion stops there).
    """
    transitions = workspace.get_transitions()
    value = transitions["critic/value"]
    not_terminal = (~transitions["env/terminated"][1]).float()
    target = transitions["env/reward"][1] + cfg.gamma * not_terminal * value[1].detach()
    critic_loss = (target - value[0]).pow(2).mean()

    with torch.no_grad():
        v = workspace["critic/value"]
        done = workspace["env/done"]
        terminated = workspace["env/terminated"]
        reward = workspace["env/reward"]
        valid = ~done[:-1]  # the pairs (t, t+1) that get_transitions keeps
        td = reward[1:] + cfg.gamma * (~terminated[1:]).float() * v[1:] - v[:-1]
        advantage = torch.zeros_like(td)
        running = torch.zeros_like(td[0])
        for t in range(td.shape[0] - 1, -1, -1):
            running = td[t] + cfg.gamma * cfg.gae_lambda * (~done[t + 1]).float() * running
            running = running * valid[t].float()
            advantage[t] = running
        advantage = advantage[valid]
        if cfg.normalize_advantage and advantage.numel() > 1:
            advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    logprob = workspace["logprob"][:-1][valid]
    entropy = workspace["entropy"][:-1][valid].mean()
    actor_loss = -(advantage * logprob).mean() - cfg.entropy_coef * entropy
    return critic_loss, actor_loss


def train(cfg: A2CConfig, seed: int, quiet: bool = False) -> RunResult:
    """One A2C run; returns the eval curve, steps to the target, losses and wall time."""
    seed_everything(seed)
    env_agent = train_env_agent(cfg.num_envs, seed, cfg.backend)
    obs_size, n_actions = env_agent.get_obs_and_actions_sizes()
    actor = ActorAgent(obs_size, n_actions, cfg.hidden)
    critic = CriticAgent(obs_size, cfg.hidden)
    collect = TemporalAgent(Agents(env_agent, actor, critic))
    rescore = TemporalAgent(Agents(actor, critic))
    evaluate = Evaluator(actor, cfg.eval_envs, seed + 10_000)
    params = [*actor.parameters(), *critic.parameters()]
    optimizer = torch.optim.Adam(params, lr=cfg.lr)

    result = RunResult("a2c", seed)
    progress = Progress(f"a2c seed {seed}", cfg.steps, quiet=quiet)
    initial = torch.cat([flat_params(actor), flat_params(critic)])
    workspace = Workspace()
    steps, epoch, next_eval, last_eval = 0, 0, 0, None
    while steps < cfg.steps:
        if epoch == 0:
            collect(workspace, t=0, n_steps=cfg.epoch_steps, stochastic=True)
        else:
            workspace.zero_grad()
            workspace.copy_n_last_steps(1)
            rescore(workspace, t=0, n_steps=1, replay=True)
            collect(workspace, t=1, n_steps=cfg.epoch_steps, stochastic=True)
        steps += (workspace.time_size() - 1) * cfg.num_envs
        n_done, returns = episode_stats(workspace, first_row=0 if epoch == 0 else 1)
        result.episodes += n_done
        epoch += 1

        critic_loss, actor_loss = a2c_losses(cfg, workspace)
        loss = actor_loss + cfg.critic_coef * critic_loss
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        optimizer.step()
        result.losses.append(float(loss.detach()))

        if steps >= next_eval or steps >= cfg.steps:
            last_eval = evaluate()
            result.record_eval(steps, last_eval)
            next_eval += cfg.eval_every
        progress.update(steps, result.episodes, returns, last_eval)
    env_agent.close()  # the async backend's worker processes
    result.wall_s = progress.elapsed()
    result.params_changed = not torch.equal(
        initial, torch.cat([flat_params(actor), flat_params(critic)])
    )
    progress.update(steps, result.episodes, [], last_eval, force=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser(__doc__.splitlines()[0], A2CConfig.steps).parse_args(argv)
    torch.set_num_threads(1)  # small networks: extra threads only add synchronisation cost
    cfg = A2CConfig(
        steps=args.steps,
        eval_every=args.eval_every,
        eval_envs=args.eval_envs,
        backend=args.backend,
    )
    cfg = apply_overrides(cfg, args.hp)
    results = [train(cfg, seed, quiet=args.quiet) for seed in seeds_of(args)]
    for r in results:
        print(
            f"a2c seed {r.seed}: steps to {TARGET_RETURN:.0f}: {r.steps_to_target}, "
            f"final eval {r.eval_returns[-1]:.1f}, wall {r.wall_s:.1f}s"
        )
    path = write_outputs(args.out, "a2c", asdict(cfg), results, plot=not args.no_plot)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
