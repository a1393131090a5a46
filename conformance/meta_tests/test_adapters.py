"""The bbrl adapter maps names only: it must not hide any of bbrl's behaviour."""

from __future__ import annotations

import importlib

import pytest
from bbrl_conformance import REQUIRED_NAMES


def test_bbrl_adapter_only_renames() -> None:
    pytest.importorskip("bbrl")
    adapter = importlib.import_module("bbrl_conformance.adapters.bbrl")
    import bbrl.agents
    import bbrl.agents.gymnasium
    import bbrl.utils.replay_buffer
    import bbrl.workspace

    originals = {
        "Agent": bbrl.agents.Agent,
        "Agents": bbrl.agents.Agents,
        "TemporalAgent": bbrl.agents.TemporalAgent,
        "ParallelGymAgent": bbrl.agents.gymnasium.ParallelGymAgent,
        "make_env": bbrl.agents.gymnasium.make_env,
        "ReplayBuffer": bbrl.utils.replay_buffer.ReplayBuffer,
    }
    # bbrl's conveniences and configuration helpers (AG-8..AG-24), by name only
    for name in (
        "CopyTAgent",
        "EpisodesDone",
        "KWAgentWrapper",
        "PrintAgent",
        "SeedableAgent",
        "SerializableAgent",
        "TimeAgent",
    ):
        originals[name] = getattr(bbrl.agents, name)
    for name in ("get_arguments", "get_class", "instantiate_class"):
        originals[name] = getattr(bbrl, name)
    for name, original in originals.items():
        assert getattr(adapter, name) is original, name
    assert set(adapter.__all__) == set(REQUIRED_NAMES) | set(originals)
    assert adapter.Workspace.__bases__ == (bbrl.workspace.Workspace,)
    own = {k for k in vars(adapter.Workspace) if not k.startswith("__")}
    assert own == {"get_transitions"}
    assert adapter.CONFORMANCE_DEVIATIONS == "bbrl"
