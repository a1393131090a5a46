"""How a generated program's observations are judged, against the model or between two
implementations.

A program runs on one or two *subjects* (an implementation module and the objects the program
made with it). Every check of the program generator (``_machine``) goes through a
:class:`Judge`:

- in conformance mode (one subject) each observation is compared with the model's expectation,
  through the suite's assertion helpers, so a failure names its clause and carries the
  program as a reproducer;
- in differential mode (two subjects) the observations of the two are compared with each other
  in a canonical form that drops what spec/not-specified.md leaves open (which exception
  subclass, message wording, key order); the first difference raises :class:`Divergence`, whose
  message is a standalone script running the program on both modules.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from bbrl_conformance._assertions import expect, expect_equal_tensors
from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._model.values import MValue
from bbrl_conformance._model.workspace import ModelError
from bbrl_conformance._programs import from_model, to_model

__all__ = ["BUILTIN_ERRORS", "Divergence", "Judge", "Outcome", "Subject"]

#: the builtin types spec/errors.md names, in the order a canonical form lists them
BUILTIN_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    RuntimeError,
)

SCRIPT_IMPORTS = """\
import torch
from bbrl_conformance._programs import *
from bbrl_conformance._model.agents import *
from bbrl_conformance._model.envfamily import *
from bbrl_conformance._model.env_agent import EnvSetup
"""
#: what every program starts with: its parameter p and the lists its agents log into
PROGRAM_SETUP = """\
p = torch.ones((), dtype=torch.float64, requires_grad=True)
calls, reads = [], []
"""


@dataclass
class Subject:
    """One implementation running the program, with the objects the program made."""

    impl: Any
    module: str
    objects: dict[str, Any] = field(default_factory=dict)
    #: tensors passed to set/set_full, by their name in the program (``v3``)
    sources: dict[str, torch.Tensor] = field(default_factory=dict)
    #: tensors read earlier whose gradients are checked later (WS-10), by id
    pending: dict[int, torch.Tensor] = field(default_factory=dict)
    #: what the leaves of this subject's agents log (see _programs.build_tree)
    calls: list[Any] = field(default_factory=list)
    reads: list[Any] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.objects[name]


@dataclass(frozen=True)
class Outcome:
    """What a call did on one subject: returned ``value`` or raised ``error``."""

    value: object = None
    error: BaseException | None = None


class Divergence(AssertionError):
    """Two implementations observed differently; the message is a reproducer script."""

    def __init__(self, clause: str, what: str, script: str) -> None:
        self.clause = clause
        self.what = what
        self.script = script
        super().__init__(f"divergence under {clause}: {what}\n\nReproducer:\n{script}")


def error_names(exc: BaseException) -> list[str]:
    """The builtin types of spec/errors.md that ``exc`` is an instance of (else its type)."""
    names = [t.__name__ for t in BUILTIN_ERRORS if isinstance(exc, t)]
    return names or [type(exc).__name__]


def canonical(value: object) -> object:
    """A form of an observation equal for two implementations exactly when the spec says the
    observations must agree (tensors by dtype, shape and values; sets by members)."""
    if isinstance(value, torch.Tensor):
        m = to_model(value)
        array = m.array
        if array.dtype.kind == "f":
            array = np.asarray(array, dtype=np.float64) + 0.0
        return ("tensor", m.dtype, m.shape, np.ascontiguousarray(array).tobytes())
    if isinstance(value, MValue):
        return canonical(from_model(value))
    if isinstance(value, BaseException):
        return ("raised", tuple(error_names(value)))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(canonical(v).__repr__() for v in value)))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canonical(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), canonical(v)) for k, v in value.items())))
    return value


def describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor(shape={tuple(value.shape)}, dtype={value.dtype})\n{value!r:.1500}"
    if isinstance(value, BaseException):
        return f"raised {type(value).__qualname__} ({'/'.join(error_names(value))}): {value}"
    return f"{type(value).__name__} {value!r:.1500}"


class Judge:
    """Checks observations of one program on its subjects (see the module docstring)."""

    def __init__(
        self, subjects: Sequence[Subject], lines: list[str], skip: frozenset[str] = frozenset()
    ) -> None:
        if len(subjects) not in (1, 2):
            raise ValueError(f"Judge: expected 1 or 2 subjects, got {len(subjects)}")
        self.subjects = list(subjects)
        self.lines = lines
        #: clauses whose checks are not made (a differential run looking past known ones)
        self.skip = skip

    def skipped(self, clause: str) -> bool:
        return clause in self.skip

    @property
    def differential(self) -> bool:
        return len(self.subjects) == 2

    # -- reproducers ---------------------------------------------------------------------

    def repro(self, probe: str | None = None) -> str:
        """The program so far, then ``print(probe)``."""
        body = SCRIPT_IMPORTS + PROGRAM_SETUP + "\n".join(self.lines)
        if probe:
            body += f"\nprint({probe})"
        return body

    def script(self, probe: str | None) -> str:
        """The program as a function of the module, run on both subjects' modules."""
        body = PROGRAM_SETUP + "\n".join(self.lines) + f"\nreturn {probe or 'None'}\n"
        names = tuple(s.module for s in self.subjects)
        return (
            "import importlib\n"
            f"{SCRIPT_IMPORTS}"
            "from bbrl_conformance._judge import describe\n\n\n"
            "def program(impl):\n"
            f"{textwrap.indent(body, '    ')}\n\n"
            f"for name in {names!r}:\n"
            "    impl = importlib.import_module(name)\n"
            "    try:\n"
            "        result = program(impl)\n"
            "    except Exception as exc:\n"
            "        result = exc\n"
            "    print(name, '->', describe(result))\n"
        )

    def _diverge(self, clause: str, what: str, probe: str | None, seen: Sequence[str]) -> None:
        details = "\n".join(f"  {s.module}: {d}" for s, d in zip(self.subjects, seen, strict=True))
        raise Divergence(clause, f"{what}\n{details}", self.script(probe))

    # -- running -------------------------------------------------------------------------

    def run(self, call: Callable[[Subject], object]) -> list[Outcome]:
        """``call`` on every subject, catching what it raises."""
        outcomes = []
        for subject in self.subjects:
            try:
                outcomes.append(Outcome(value=call(subject)))
            except Exception as exc:
                outcomes.append(Outcome(error=exc))
        return outcomes

    def _compare(
        self, clause: str, what: str, probe: str | None, forms: list[object], shown: list[str]
    ) -> None:
        if forms[0] != forms[1]:
            self._diverge(clause, what, probe, shown)

    # -- checks --------------------------------------------------------------------------

    def succeeded(self, clause: str, what: str, probe: str | None, outcomes: list[Outcome]) -> None:
        """Each call must have returned (the model says the call is valid)."""
        if self.skipped(clause):
            return
        if self.differential:
            forms = [canonical(o.error) if o.error else "returned" for o in outcomes]
            shown = [describe(o.error) if o.error else "returned" for o in outcomes]
            self._compare(clause, what, probe, forms, shown)
            return
        error = outcomes[0].error
        if error is not None:
            raise ConformanceFailure(
                clause,
                f"{what}\nraised {type(error).__module__}.{type(error).__qualname__}: {error}",
                self.repro(probe),
            ) from error

    def failed(
        self,
        expected: ModelError,
        what: str,
        probe: str | None,
        outcomes: list[Outcome],
        names: Sequence[str] = (),
    ) -> None:
        """Each call must have raised one of ``expected.allowed``; in conformance mode the
        message must also name one of ``names`` (ERR-6), when given."""
        if self.skipped(expected.clause):
            return
        allowed = expected.allowed
        allowed_names = " or ".join(t.__name__ for t in allowed)
        why = "; ".join(f"{r.clause}: {r.why}" for r in expected.reasons)
        if self.differential:
            forms: list[object] = []
            shown = []
            for o in outcomes:
                if o.error is None:
                    forms.append("returned")
                    shown.append(f"returned {o.value!r:.200}")
                elif isinstance(o.error, allowed):
                    forms.append("raised as specified")
                    shown.append(describe(o.error))
                else:
                    forms.append(canonical(o.error))
                    shown.append(describe(o.error))
            self._compare(expected.clause, f"{what} (spec: {why})", probe, forms, shown)
            return
        outcome = outcomes[0]
        repro = self.repro(probe)
        if outcome.error is None:
            raise ConformanceFailure(
                expected.clause,
                f"{what}\nexpected {allowed_names} ({why}), but nothing was raised "
                f"(returned {outcome.value!r:.200})",
                repro,
            )
        if not isinstance(outcome.error, allowed):
            error = outcome.error
            raise ConformanceFailure(
                expected.clause,
                f"{what}\nexpected {allowed_names} ({why}), got "
                f"{type(error).__module__}.{type(error).__qualname__}: {error}",
                repro,
            ) from error
        if names:
            message = str(outcome.error)
            expect(
                any(n in message for n in names),
                "ERR-6",
                f"{what} raised {type(outcome.error).__name__}({message!r}), whose message "
                f"names none of {list(names)}",
                repro,
            )

    def tensor(
        self,
        clause: str,
        what: str,
        probe: str,
        get: Callable[[Subject], object],
        expected: MValue,
    ) -> list[object]:
        """``get`` must return a tensor equal to the model's value (same dtype, shape, values).
        Returns what each subject returned."""
        outcomes = self.run(get)
        if self.skipped(clause):
            return [o.value for o in outcomes]
        if self.differential:
            forms = [canonical(o.error if o.error else o.value) for o in outcomes]
            shown = [describe(o.error if o.error else o.value) for o in outcomes]
            self._compare(clause, what, probe, forms, shown)
            return [o.value for o in outcomes]
        outcome = outcomes[0]
        if outcome.error is not None:
            self.succeeded(clause, what, probe, outcomes)
        expect_equal_tensors(outcome.value, from_model(expected), clause, what, self.repro(probe))
        return [outcome.value]

    def value(
        self,
        clause: str,
        what: str,
        probe: str,
        get: Callable[[Subject], object],
        expected: object,
    ) -> None:
        """``get`` must return a value equal to ``expected`` (Python equality)."""
        if self.skipped(clause):
            return
        outcomes = self.run(get)
        if self.differential:
            forms = [canonical(o.error if o.error else o.value) for o in outcomes]
            shown = [describe(o.error if o.error else o.value) for o in outcomes]
            self._compare(clause, what, probe, forms, shown)
            return
        outcome = outcomes[0]
        if outcome.error is not None:
            self.succeeded(clause, what, probe, outcomes)
        expect(
            outcome.value == expected,
            clause,
            f"{what}\ngot:      {outcome.value!r:.1500}\nexpected: {expected!r:.1500}",
            self.repro(probe),
        )

    def verdict(
        self,
        clause: str,
        what: str,
        probe: str | None,
        check: Callable[[Subject], str | None],
    ) -> None:
        """``check`` returns None when the subject behaves as the spec says, else what is
        wrong; in differential mode only a difference between the subjects' verdicts counts."""
        if self.skipped(clause):
            return
        problems: list[str | None] = []
        for subject in self.subjects:
            try:
                problems.append(check(subject))
            except Exception as exc:
                problems.append(f"raised {describe(exc)}")
        if self.differential:
            forms: list[object] = [p is None for p in problems]
            shown = [p or "as specified" for p in problems]
            self._compare(clause, what, probe, forms, shown)
            return
        problem = problems[0]
        expect(problem is None, clause, f"{what}\n{problem}", self.repro(probe))
