"""Reserved variable names written by the env agent and read by the agents (spec ENV)."""

from __future__ import annotations

from typing import Final

ENV_OBS: Final = "env/env_obs"
ENV_REWARD: Final = "env/reward"
ENV_DONE: Final = "env/done"
ENV_TERMINATED: Final = "env/terminated"
ENV_TRUNCATED: Final = "env/truncated"
ENV_CUMULATED_REWARD: Final = "env/cumulated_reward"
ENV_TIMESTEP: Final = "env/timestep"
ACTION: Final = "action"
