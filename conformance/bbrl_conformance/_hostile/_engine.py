"""The engine of the hostile-input tests: calls, what the spec allows, outcomes, the census.

A world runs every call as source text in its namespace (``impl`` is the implementation under
test) and logs it, so that its log, run on any implementation, replays what happened: the
reproducer of a failure is the log, the failing call, and what shows the difference. A call
that raised is logged inside ``try``/``except``, so that a reproducer runs past it on an
implementation that raises there and on one that does not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from bbrl_conformance._failure import ConformanceFailure

T = TypeVar("T")

#: the census classes of bad input, in table order
CLASSES = (
    "python-type",
    "shape",
    "dtype",
    "device",
    "layout",
    "size",
    "nan-inf",
    "view",
    "name",
    "file",
    "state",
)
#: the class of the valid calls a world makes between bad ones (their results are checked too)
VALID = "valid"

#: outcomes that pass
PASSED = ("correct result", "typed error")
#: outcomes that fail, in table order
FAILURES = (
    "internal error",
    "other error type",
    "nothing raised",
    "raised on valid input",
    "state changed",
    "wrong result",
    "stalled",
)

#: The builtin types spec/errors.md names for bad input: where the spec says nothing about an
#: input (a gap), any of these that is not an internal error is accepted.
TYPED: tuple[type[BaseException], ...] = (
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    RuntimeError,
    MemoryError,
    ImportError,
    OSError,
    TimeoutError,
)
#: Never the answer to a bad input, unless a clause names it (AG-24 names AttributeError).
INTERNAL: tuple[type[BaseException], ...] = (
    AssertionError,
    AttributeError,
    NameError,
    NotImplementedError,
    RecursionError,
    ArithmeticError,
    SystemError,
    StopIteration,
)
#: Exceptions defined by these packages are their internals leaking, whatever their base.
FOREIGN = ("torch", "numpy", "gymnasium", "pickle", "_pickle")

#: The inputs the spec says nothing about: the gap's id -> what is open. A call of a gap
#: accepts any typed builtin error (TYPED, not INTERNAL) with the object unchanged, or a
#: success. Listed in the census and in the report so that the spec can close them.
GAPS: dict[str, str] = {
    "bool-as-int": "a bool where an int is expected (t, n, n_steps, a size, num_envs, ...), "
    "where no clause says whether it counts as an int",
    "numpy-int": "a numpy integer scalar or a 0-d integer tensor where an int is expected "
    "(DET-9 accepts numpy integers for seeds only)",
    "excluded-dtype": "a value whose dtype is outside WS-21 (float8, complex32, the bit and "
    "sub-byte dtypes): not-specified.md leaves it open",
    "names-type": "copy_n_last_steps(var_names=...) given a str or a non-iterable (WS-42 fixes "
    "it for copy_time only)",
    "names-container": "workspace[names] with names neither a str, a tuple nor a list (a set, "
    "a dict)",
    "cat-batch-sequence": "cat_batch given a tuple, or an argument that is not a list",
    "in-non-str": "`x in workspace` for an x that is not a str",
    "agent-index": "Agent.get/set with an index that is neither a str nor a (name, t) pair",
    "agent-children": "Agents, TemporalAgent or KWAgentWrapper given something that is not an "
    "Agent",
    "print-missing-row": "PrintAgent on a variable without row t (not-specified.md)",
    "print-names": "PrintAgent given a name that is not a str",
    "model-path": "save_model/load_model with a path that cannot be written or read, or is "
    "not a str or os.PathLike",
    "get-arguments": "get_arguments given something that is not a mapping",
    "env-t": "an env agent called with a t >= 2**31 (ENV-22 calls it an invalid t, with no "
    "exception type; ENV-31 or ENV-15 may apply first)",
    "env-failed-write": "the exception type of an env agent call whose row write fails "
    "(a variable of the workspace has another dtype, item shape or batch size)",
    "env-closed": "calling an env agent after close() (not-specified.md)",
    "seed-again": "seed(s) on an env agent already seeded or already run (not-specified.md: "
    "seeding a SeedableAgent twice; bbrl raises Exception)",
    "env-arguments": "ParallelGymAgent's make_env_fn, make_env_args, include_last_state or "
    "reward_at_t of the wrong type",
    "make-env-arguments": "make_env given an env name or wrappers of the wrong type",
    "buffer-put-argument": "ReplayBuffer.put given something that is not a Workspace, or a "
    "workspace with no variable, mixed time sizes or no item for an empty buffer",
    "buffer-device": "ReplayBuffer(device='meta') and to('meta') (not-specified.md: buffers "
    "on the meta device)",
    "buffer-state-dict": "load_state_dict given a state that is not what state_dict() returns",
    "buffer-path-type": "save/load given a path that is neither a str nor an os.PathLike",
}

#: Seconds a guarded call may take, and bytes of address space it may add (Linux): enough for
#: any correct answer, far below what an implementation without a bound would allocate.
GUARD_SECONDS = 10.0
GUARD_BYTES = 2**30


class Draw(Protocol):
    """Where a generator draws its choices: Hypothesis (shrinkable) or a seeded Random."""

    def pick(self, options: Sequence[T], label: str) -> T:
        """One of ``options`` (the first is the simplest)."""
        ...

    def integer(self, low: int, high: int, label: str) -> int:
        """An int in ``low..high`` (both included)."""
        ...


@dataclass
class Call:
    """One call and what the spec allows for it.

    ``code`` runs in the world's namespace; its last statement is the call (earlier lines
    build its arguments). ``raises``: the builtin types the spec names for this input.
    ``check``: a success is allowed; it checks the result against the model (raising
    ConformanceFailure) and updates the model. A call with neither must raise. ``gap``: the
    spec says nothing (a key of GAPS): any typed error, or a success (checked by ``check`` if
    given, else the world is rebuilt from its model). ``after_error``: the model's update when
    the call raises as allowed (TA-8: the rows of the steps already run stay); without it the
    state must be unchanged, else ``unchanged`` names the clause that failed.
    """

    klass: str
    clause: str
    code: str
    what: str
    raises: tuple[type[BaseException], ...] = ()
    check: Callable[[], None] | None = None
    gap: str | None = None
    after_error: Callable[[], None] | None = None
    unchanged: str = "ERR-5"
    guarded: bool = False

    @property
    def must_raise(self) -> bool:
        return self.check is None and self.gap is None


@dataclass(frozen=True)
class Maker:
    """A generator of calls: its census class, the area it exercises, the function."""

    klass: str
    area: str
    make: Callable[[Any, Draw], Call | None]


COMMON_PREAMBLE = '''\
import contextlib, hashlib, io, math, os, tempfile, warnings
import numpy as np
import torch


def quiet(make):
    """make() with warnings silenced (torch warns when it builds prototype layouts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def bits(shape, dtype, seed):
    """A tensor whose elements are random bit patterns: NaN payloads, infinities, -0.0,
    subnormals and integer extremes included."""
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    size = torch.empty((), dtype=dtype).element_size()
    if size == 16:
        raw = torch.randint(-2**63, 2**63 - 1, (*shape, 2), generator=g, dtype=torch.int64)
        return raw.view(dtype).reshape(shape)
    signed = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[size]
    info = torch.iinfo(signed)
    return torch.randint(info.min, info.max, shape, generator=g, dtype=signed).view(dtype)


def outcome(fn, *args):
    """fn(*args), or the name of the exception it raised."""
    try:
        return fn(*args)
    except Exception as exc:
        return type(exc).__name__


def digest(value):
    """(dtype, shape, a digest of the bits) of a tensor: equal exactly when the bits are."""
    value = value.detach().resolve_conj().resolve_neg().contiguous()
    raw = value.reshape(-1).view(torch.uint8).numpy().tobytes()
    return (str(value.dtype), tuple(value.shape), hashlib.sha256(raw).hexdigest()[:16])


def ws_state(ws):
    """A workspace's observable state: names, dtypes, shapes, bits, batch and time sizes."""
    names = sorted(outcome(lambda: list(ws.keys())), key=repr)  # bbrl takes non-str names
    variables = [(name, outcome(lambda: digest(ws.get_full(name)))) for name in names]
    return variables, outcome(ws.batch_size), outcome(ws.time_size)


def capture(call):
    """What call() prints to standard output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        call()
    return out.getvalue()
'''


class World:
    """Live objects of the implementation, their model, and the log of the calls made.

    Subclasses set ``preamble`` (their helpers, as source), build their objects in
    ``__init__`` with :meth:`setup`, and define the generators (``makers``), the observed
    state (``observe``, with ``state_source`` printing it), the model check
    (``check_model``) and ``rebuild``.
    """

    preamble = ""
    #: source of an expression giving the observed state (evaluated in the namespace)
    state_source = "None"

    def __init__(self, impl: Any) -> None:
        self.impl = impl
        self._tmp = contextlib.ExitStack()
        import tempfile

        self.tmp = self._tmp.enter_context(tempfile.TemporaryDirectory(prefix="bbrl-hostile-"))
        self.ns: dict[str, Any] = {"impl": impl, "tmp": self.tmp}
        exec(compile(COMMON_PREAMBLE + self.preamble, "<hostile preamble>", "exec"), self.ns)
        self.log: list[str] = []
        #: set when a call could not be undone (a stalled call): the world must be replaced
        self.broken = False

    # ------------------------------------------------------------------ running code
    def setup(self, code: str) -> None:
        """Run and log valid set-up code (its failure is the implementation's)."""
        self.run(code)
        self.log.append(code)

    def run(self, code: str) -> None:
        exec(compile(code, "<hostile call>", "exec"), self.ns)

    def value(self, expression: str) -> Any:
        """Evaluate ``expression`` in the namespace (test-side values, e.g. for the model)."""
        return eval(compile(expression, "<hostile value>", "eval"), self.ns)

    def record(self, code: str, raised: bool) -> None:
        self.log.append(tolerant(code) if raised else code)

    def repro(self, *last: str) -> str:
        """The reproducer: the preamble, then, in a temporary directory, the log and ``last``."""
        body = "\n".join([*self.log, *last])
        return (
            COMMON_PREAMBLE
            + self.preamble
            + "\nwith tempfile.TemporaryDirectory() as tmp:\n"
            + textwrap.indent(body, "    ")
        )

    # -------------------------------------------------------------- what subclasses do
    def observe(self) -> object:
        """The observable state, comparable with ``==`` (evaluates ``state_source``; the
        reads are logged, since reading may matter to a faulty implementation)."""
        state = self.value(self.state_source)
        if not self.log or self.log[-1] != self.state_source:
            self.log.append(self.state_source)
        return state

    def check_model(self, clause_id: str, when: str) -> None:
        """Raise ConformanceFailure unless the objects hold what the model says."""

    def rebuild(self) -> None:
        """Bring the objects back to the model's state with valid calls (after a success the
        spec leaves open, whose effect the model cannot follow)."""

    def makers(self) -> list[Maker]:
        return []

    def unchanged_clause(self, call: Call, before: object, after: object) -> str:
        """The clause a changed state fails (a world may name a more precise one)."""
        return call.unchanged

    def describe(self) -> str:
        """The world's live objects in a few words, for the calls' descriptions."""
        raise NotImplementedError

    def bad(
        self,
        klass: str,
        clause_id: str,
        code: str,
        what: str,
        raises: tuple[type[BaseException], ...] = (),
        gap: str | None = None,
        check: Callable[[], None] | None = None,
        guarded: bool = False,
    ) -> Call | None:
        """A bad call: ``raises`` are the builtin types its clause allows (``gap``: where the
        spec is silent); ``guarded`` runs it under the stall guard (None where there is none)."""
        if guarded and not guard_available():
            return None
        return Call(
            klass,
            clause_id,
            code,
            f"{what} on {self.describe()}",
            raises,
            check,
            gap,
            guarded=guarded,
        )

    def close(self) -> None:
        self._tmp.close()


def tolerant(code: str) -> str:
    """``code`` inside ``try``/``except Exception: pass`` (a call that raised, in the log)."""
    return "try:\n" + textwrap.indent(code, "    ") + "\nexcept Exception:\n    pass"


def report_type(code: str) -> str:
    """``code`` printing the type of what it raises (nothing when it returns)."""
    return (
        "try:\n"
        + textwrap.indent(code, "    ")
        + "\nexcept Exception as exc:\n    print('raised', type(exc).__module__, "
        "type(exc).__qualname__)"
    )


# ---------------------------------------------------------------------- the guard
class Stalled(BaseException):
    """A guarded call ran out of time (a BaseException: implementations catch Exception)."""


def guard_available() -> bool:
    """Whether guarded calls can run here: Linux (RLIMIT_AS, /proc) in the main thread."""
    return (
        hasattr(signal, "setitimer")
        and os.path.exists("/proc/self/statm")
        and threading.current_thread() is threading.main_thread()
    )


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _stalled(signum: int, frame: object) -> None:
    raise Stalled(f"no answer within {GUARD_SECONDS} s")


@contextlib.contextmanager
def guard(active: bool) -> Iterator[None]:
    """While active: at most GUARD_BYTES more address space and GUARD_SECONDS of time, so
    that an implementation that allocates without a bound fails fast instead of exhausting
    the machine."""
    if not active:
        yield
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + GUARD_BYTES
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    previous = signal.signal(signal.SIGALRM, _stalled)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, GUARD_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------ outcomes
def foreign(exc: BaseException) -> bool:
    """Whether ``exc`` is defined by torch, numpy, gymnasium or pickle (an internal leaking)."""
    return type(exc).__module__.split(".")[0] in FOREIGN


def internal(exc: BaseException, allowed: tuple[type[BaseException], ...]) -> bool:
    """Whether ``exc`` is an internal error, never an answer to an input, unless ``allowed``
    names its type (AG-24 names AttributeError)."""
    if foreign(exc):
        return True
    if allowed and isinstance(exc, allowed) and allowed is not TYPED:
        return False
    return isinstance(exc, INTERNAL) or not isinstance(exc, TYPED)


def describe(exc: BaseException) -> str:
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return f"{name}: {str(exc)[:300]}"


def names(types: Sequence[type[BaseException]]) -> str:
    return " or ".join(t.__name__ for t in types)


@dataclass
class Outcome:
    """How one call ended: a kind of PASSED or FAILURES, and the failure to raise if any."""

    kind: str
    failure: ConformanceFailure | None = None
    cause: BaseException | None = None
    gap: bool = False

    @property
    def passed(self) -> bool:
        return self.failure is None


def run_call(world: World, call: Call) -> Outcome:
    """Run ``call`` in ``world`` and classify the outcome (see Call)."""
    valid = call.check is not None and not call.raises and call.gap is None
    before = None if valid else world.observe()
    repro = world.repro(call.code)
    error: BaseException | None = None
    try:
        with guard(call.guarded):
            world.run(call.code)
    except Stalled as exc:
        error = exc
    except Exception as exc:
        error = exc
    gap = call.gap is not None
    if error is None:
        world.record(call.code, raised=False)
        if call.must_raise:
            return Outcome(
                "nothing raised",
                ConformanceFailure(
                    call.clause,
                    f"{call.what}\nexpected {names(call.raises)}, but nothing was raised",
                    repro,
                    tuple(t.__name__ for t in call.raises),
                ),
            )
        if call.check is not None:
            try:
                call.check()
            except ConformanceFailure as exc:
                return Outcome("wrong result", exc)
        else:
            world.rebuild()
        return Outcome("correct result", gap=gap)
    world.record(call.code, raised=True)
    if isinstance(error, Stalled):
        world.broken = True
        failure = ConformanceFailure(
            call.clause,
            f"{call.what}\ndid not return within {GUARD_SECONDS:.0f} s, with at most "
            f"{GUARD_BYTES // 2**20} MiB more memory (an allocation without a bound?)",
            repro,
        )
        return Outcome("stalled", failure, error)
    if not call.raises and not gap:
        return Outcome(
            "raised on valid input",
            ConformanceFailure(
                call.clause,
                f"{call.what}\nraised {describe(error)} (the spec allows this call)",
                repro,
            ),
            error,
        )
    allowed = TYPED if gap else call.raises
    if internal(error, allowed) or not isinstance(error, allowed):
        is_internal = internal(error, allowed)
        clause_id = "ERR-1" if isinstance(error, AssertionError) else call.clause
        if gap:
            expected = f"a typed error ({names(TYPED)}) or a result (spec gap {call.gap})"
            shown = world.repro(report_type(call.code))
            raises = None
        else:
            expected = names(call.raises)
            shown, raises = repro, tuple(t.__name__ for t in call.raises)
        note = (
            "\nan untyped internal error: a bad input gets the builtin type spec/errors.md "
            "names, with a message naming the argument (ERR-6)"
            if is_internal
            else ""
        )
        return Outcome(
            "internal error" if is_internal else "other error type",
            ConformanceFailure(
                clause_id,
                f"{call.what}\nexpected {expected}, got {describe(error)}{note}",
                shown,
                raises,
            ),
            error,
        )
    if call.after_error is not None:
        call.after_error()
        try:
            world.check_model(call.unchanged, f"after {call.what} raised {describe(error)}")
        except ConformanceFailure as exc:
            return Outcome("state changed", exc, error)
        return Outcome("typed error", gap=gap)
    after = world.observe()
    if after != before:
        return Outcome(
            "state changed",
            ConformanceFailure(
                world.unchanged_clause(call, before, after),
                f"{call.what}\nraised {describe(error)} as allowed, but changed the state:\n"
                f"before: {before!r:.1500}\nafter:  {after!r:.1500}",
                world.repro(tolerant(call.code), f"print({world.state_source})"),
            ),
            error,
        )
    return Outcome("typed error", gap=gap)


# ------------------------------------------------------------------------- census
@dataclass
class Tally:
    """Outcomes per census class: the table of the README's reliability section."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, klass: str, outcome: Outcome) -> None:
        row = self.counts.setdefault(klass, Counter())
        row["calls"] += 1
        row[outcome.kind] += 1
        if outcome.gap and outcome.passed:
            row["spec gap"] += 1

    def markdown(self) -> str:
        """The table: one row per class, the passing outcomes, then each kind of failure."""
        columns = ["calls", *PASSED, "spec gap", *FAILURES]
        lines = [
            "| class | " + " | ".join(columns) + " |",
            "| --- |" + " ---: |" * len(columns),
        ]
        order = [*CLASSES, VALID]
        for klass in sorted(self.counts, key=lambda k: order.index(k) if k in order else 99):
            row = self.counts[klass]
            lines.append(f"| {klass} | " + " | ".join(str(row[c]) for c in columns) + " |")
        total: Counter[str] = Counter()
        for row in self.counts.values():
            total.update(row)
        lines.append("| **all** | " + " | ".join(f"**{total[c]}**" for c in columns) + " |")
        return "\n".join(lines)


# ------------------------------------------------------------------------ driving
class HypothesisDraw:
    """Draws from Hypothesis' ``st.data()`` (shrinkable, replayed by the ci profile)."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def pick(self, options: Sequence[T], label: str) -> T:
        from hypothesis import strategies as st

        return self.data.draw(st.sampled_from(options), label=label)  # type: ignore[no-any-return]

    def integer(self, low: int, high: int, label: str) -> int:
        from hypothesis import strategies as st

        return self.data.draw(st.integers(low, high), label=label)  # type: ignore[no-any-return]


class RandomDraw:
    """Draws from a seeded ``random.Random`` (the census)."""

    def __init__(self, seed: int) -> None:
        import random

        self.random = random.Random(seed)

    def pick(self, options: Sequence[T], label: str) -> T:
        return self.random.choice(list(options))

    def integer(self, low: int, high: int, label: str) -> int:
        return self.random.randint(low, high)


def hostile_classes(world: World, area: str) -> list[str]:
    """The census classes of the bad calls ``world`` makes in ``area``, in table order."""
    found = {m.klass for m in world.makers() if m.area == area and m.klass != VALID}
    return [k for k in CLASSES if k in found]


def step(
    world: World, draw: Draw, area: str, klass: str | None = None
) -> tuple[str, Outcome] | None:
    """One call of ``area``: a valid one a third of the time, else a bad one of ``klass`` (or
    of a drawn class). Returns (its class, its outcome), or None when the drawn generator has
    nothing to call in this state."""
    makers = [m for m in world.makers() if m.area == area]
    if draw.integer(0, 2, "valid call") == 0:
        pool = [m for m in makers if m.klass == VALID]
    else:
        if klass is None:
            klass = draw.pick(hostile_classes(world, area), "class")
        pool = [m for m in makers if m.klass == klass]
    if not pool:
        return None
    maker = draw.pick(pool, "call")
    call = maker.make(world, draw)
    if call is None:
        return None
    return call.klass, run_call(world, call)


def drive(world: World, draw: Draw, steps: int, area: str, tally: Tally | None = None) -> None:
    """``steps`` calls of ``area`` on ``world``; the first failure is raised."""
    for _ in range(steps):
        done = step(world, draw, area)
        if done is None:
            continue
        klass, outcome = done
        if tally is not None:
            tally.add(klass, outcome)
        if outcome.failure is not None:
            raise outcome.failure from outcome.cause
