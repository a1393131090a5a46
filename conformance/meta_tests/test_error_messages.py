"""The ERR-6 message checks of test_errors.py can fail: a vague message fails every case, and
the reference's messages pass every case (so the tokens asked for are ones a good message has).
"""

from __future__ import annotations

import functools
from typing import Any

import bbrl_reference
import pytest
import torch
from bbrl_conformance._assertions import missing_mentions
from bbrl_conformance.tests import test_errors

VAGUE = ["invalid", "error", "", "bad value", "invalid argument", "expected", "ValueError", "nope"]
Mention = tuple[str | tuple[str, ...], ...]


def _reference_messages() -> dict[str, tuple[str, Mention]]:
    """Case key -> (the reference's message for the bad call, the tokens asked for)."""
    impl: Any = bbrl_reference
    found: dict[str, tuple[str, Mention]] = {}

    def message(call: Any) -> str:
        try:
            call()
        except Exception as exc:
            return str(exc)
        raise AssertionError("the bad call did not raise")

    for key, case in test_errors.WORKSPACE_CASES.items():
        found[f"ws:{key}"] = (
            message(lambda c=case: c.call(test_errors._workspace(impl))),
            case.mention,
        )
    for key, (_, _, _, call, mention) in test_errors.RB_CASES.items():
        rb = impl.ReplayBuffer(5)
        rb.put(test_errors._items(impl, 0, 4))
        found[f"rb:{key}"] = (message(functools.partial(call, impl, rb)), mention)
    found["ReplayBuffer(0)"] = (message(lambda: impl.ReplayBuffer(0)), ("max_size", "0"))
    ws = test_errors._workspace(impl)
    ws.set("short", 0, torch.zeros(4))
    found["mixed time sizes"] = (message(ws.get_transitions), ("short", "1", "3"))
    make = functools.partial(impl.make_env, "CartPole-v1")
    found["num_envs"] = (message(lambda: impl.ParallelGymAgent(make, 0)), ("num_envs", "0"))
    agent = impl.ParallelGymAgent(make, 2)
    found["seed"] = (message(lambda: agent.seed(-1)), ("seed", "-1"))
    agent(impl.Workspace(), t=0)
    bad = impl.Workspace()
    bad.set("action", 0, torch.zeros(3, dtype=torch.int64))
    found["action batch"] = (message(lambda: agent(bad, t=1)), ("action", "2", "3"))
    found["missing action"] = (message(lambda: agent(impl.Workspace(), t=1)), ("action",))
    return found


MESSAGES = _reference_messages()


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_the_reference_messages_pass(key: str) -> None:
    message, mention = MESSAGES[key]
    assert missing_mentions(message, mention) == [], message


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_vague_messages_fail_every_case(key: str) -> None:
    _, mention = MESSAGES[key]
    for vague in VAGUE:
        assert missing_mentions(vague, mention), f"{vague!r} passed the check of {key}"


def test_every_case_asks_for_a_name_and_more_where_a_value_is_given() -> None:
    # each check names the variable or argument; where the call passes a bad value, its value
    # (or the expectation) is asked for too
    for key, (_, mention) in MESSAGES.items():
        assert mention, key
    with_values = [k for k, (_, m) in MESSAGES.items() if len(m) >= 2]
    assert len(with_values) >= 20
