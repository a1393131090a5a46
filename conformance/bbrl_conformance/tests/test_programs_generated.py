"""Generated programs over every public call of the core, checked against the model.

One Hypothesis state machine (``bbrl_conformance._machine``) composes random programs:
workspaces of ten dtypes, item shapes of rank 0 to 3, batch sizes from 1, integers beyond
2**53, repeated names, failing calls between valid ones, reruns at ``t0 > 0`` on used
workspaces; trees of agents (nested ``Agents`` and ``TemporalAgent``, agents owning and calling
sub-agents, repeated children) with ``n_steps`` and ``stop_variable``; env agents over a
generated family of envs (Box observations of rank 0 to 3 and every dtype, Discrete with a
``start``, Dict entries in any key order, int and float rewards, terminations and truncations
together, time limits from the env and from wrappers, seeded and unseeded) built through the
implementation's own ``make_env``; epoch loops; transitions; replay buffers fed by them, saved
and restored. After every step every observable value, dtype, shape and raised error type of
every live object is compared with the executable model (``bbrl_conformance._model``). A
failure names the clause it breaks and prints the program as a reproducer.

The hand-written tests of the other modules are the readable examples of each clause; this
test is where the breadth comes from. Its size follows the profile: ``ci`` runs
``max_examples`` programs of up to ``stateful_step_count`` steps, ``nightly`` many more.
"""

from __future__ import annotations

from typing import Any

from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from bbrl_conformance._clauses import clause
from bbrl_conformance._judge import Subject
from bbrl_conformance._machine import CLAUSES, make_program_machine

#: the ci profile's share: its programs take about 20-30 s on a loaded 2-core machine
CI_EXAMPLES = 60
CI_STEPS = 80


def _settings() -> settings:
    """The profile's settings; in ``ci`` (derandomized) a fixed share of the run, and no
    shrinking: a failing program is reported as generated (shrinking a long program can take
    minutes; the ``dev`` and ``nightly`` profiles shrink it). Only the first bug is reported."""
    current = settings()  # the loaded profile
    if current.derandomize and current.max_examples <= 100:
        phases = [p for p in current.phases if p != Phase.shrink]
        return settings(
            current,
            max_examples=CI_EXAMPLES,
            stateful_step_count=CI_STEPS,
            phases=phases,
            report_multiple_bugs=False,
        )
    return settings(current, report_multiple_bugs=False)


@clause(*CLAUSES)
def test_generated_programs(impl: Any) -> None:
    module = str(getattr(impl, "module_name", getattr(impl, "__name__", "impl")))
    machine = make_program_machine(lambda: [Subject(impl, module)])
    run_state_machine_as_test(machine, settings=_settings())
