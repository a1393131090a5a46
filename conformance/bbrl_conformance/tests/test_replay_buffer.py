"""Conformance tests of spec/replay-buffer.md (RB).

Every item put carries its id in all of its variables (see `items_workspace`), so a sample
says exactly which stored items it came from. Expected contents come from
`_models.ReplayBufferModel`, a `collections.deque(maxlen=max_size)` of items.

The domains: `max_size` every int >= 1 (1 included); items of `T >= 1` (1, 2, 3) with
variables of every dtype of `_strategies.DTYPES` and item rank 0..3, values at their dtype's
extremes (`_strategies.ItemSchema`); puts of 1 item up to more than `max_size`, filling the
buffer partly, exactly, and wrapping around; `batch_size` from 1 to beyond `size()`; a put that
breaks the schema in any one way (a variable missing or extra, `T` and each item side smaller
and larger, every other dtype), after which the buffer must be unchanged. Sampling (RB-9) is
checked for its distribution: uniform over the stored items at partial fill and when full
whatever the order of the puts, with replacement, and the same at every position of a batch.
Each of those tests states its false-alarm probability; they seed torch's global generator,
so a run of the `ci` profile is deterministic for an implementation that samples from it.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bbrl_conformance._assertions import (
    ConformanceFailure,
    expect,
    expect_equal_tensors,
    expect_raises,
    raising,
)
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import ReplayBufferModel
from bbrl_conformance._stats import binomial_tail, uniformity_p_value
from bbrl_conformance._strategies import (
    DTYPES,
    NOT_INTEGERS,
    ItemSchema,
    item_schemas,
    other_dtypes,
    other_item_shapes,
)


def items_workspace(impl: Any, first: int, n: int, time_size: int = 2) -> Any:
    """A workspace of n items with ids first..first+n-1, each id encoded in every variable.

    id[k, j] = 10 * item + k (int64), obs[k, j, c] = item + k / 2 + c / 8 (float32, exact),
    flag[k, j] = (item + k) % 3 == 0 (bool); k is the time index, j the column.
    """
    ids = torch.arange(first, first + n)
    rows = torch.arange(time_size).unsqueeze(1)
    ws = impl.Workspace()
    ws.set_full("id", ids * 10 + rows)
    obs = ids.float() + rows / 2
    ws.set_full("obs", obs.unsqueeze(2) + torch.arange(3) / 8)
    ws.set_full("flag", (ids + rows) % 3 == 0)
    return ws


def item_values(first: int, n: int, time_size: int = 2) -> dict[str, torch.Tensor]:
    """The `[T, n, ...]` tensors of `items_workspace`, for the model."""
    ids = torch.arange(first, first + n)
    rows = torch.arange(time_size).unsqueeze(1)
    obs = ids.float() + rows / 2
    return {
        "id": ids * 10 + rows,
        "obs": obs.unsqueeze(2) + torch.arange(3) / 8,
        "flag": (ids + rows) % 3 == 0,
    }


HELPER = "from typing import Any\nimport torch\n\n" + inspect.getsource(items_workspace)
#: reproducer lines printing the sample `s`: each variable's shape, dtype and exact values
_SHOW_SAMPLE = (
    "for k in sorted(s.keys()):\n    print(k, tuple(s[k].shape), s[k].dtype, s[k].tolist())"
)


def _sample_ids(sample: Any) -> list[int]:
    return [int(i) // 10 for i in sample["id"][0].tolist()]


def check_sample(
    sample: Any,
    batch_size: int,
    model: ReplayBufferModel,
    call: str,
    repro: str,
    eviction_clause: str = "RB-4",
    stray_clause: str = "RB-9",
    layout: bool = False,
) -> list[int]:
    """RB-8, RB-9, RB-11 on one sample; returns the ids of the sampled items.

    A sampled item that was put but should have been evicted fails `eviction_clause` (the
    clause of the put or eviction that went wrong); one that was never put fails
    `stray_clause` (RB-9, or RB-7 where it can only come from a rejected put). `layout` also
    checks that every tensor is contiguous (RB-8).
    """
    __tracebackhide__ = True
    schema = model.schema or {}
    names = sorted(sample.keys())
    expect(
        names == sorted(schema),
        "RB-8",
        f"{call}: variables {names}, expected the stored {sorted(schema)}",
        repro,
    )
    for name, (shape, dtype) in schema.items():
        got = sample[name]
        want_shape = (shape[0], batch_size, *shape[1:])
        expect(
            tuple(got.shape) == want_shape and got.dtype == dtype,
            "RB-8",
            f"{call}: {name!r} is {tuple(got.shape)} {got.dtype}, expected {want_shape} {dtype}",
            repro,
        )
        expect(not got.requires_grad, "RB-11", f"{call}: {name!r} requires grad", repro)
    ids = _sample_ids(sample)
    stored = {item.item_id: item for item in model.items}
    evicted = sorted({i for i in ids if i not in stored and 0 <= i < model.next_id})
    expect(
        not evicted,
        eviction_clause,
        f"{call}: sampled items {evicted} should have been evicted (stored ids, oldest first: "
        f"{model.ids()}; {model.next_id} items put into max_size {model.capacity})",
        repro,
    )
    strays = sorted(set(ids) - set(stored))
    expect(
        not strays,
        stray_clause,
        f"{call}: sampled item ids {strays} were never put (stored ids: {model.ids()})",
        repro,
    )
    for name in schema:
        expected = torch.stack([stored[i].values[name] for i in ids], dim=1)
        expect_equal_tensors(
            sample[name],
            expected,
            "RB-8",
            f"{call}: column i of {name!r} must come from the same stored item as column i of "
            f"'id' (sampled ids {ids})",
            repro,
            nan_equal=True,
        )
    for name in schema if layout else ():
        expect(sample[name].is_contiguous(), "RB-8", f"{call}: {name!r} is not contiguous", repro)
    return ids


def check_stored_ids(
    rb: Any,
    model: ReplayBufferModel,
    what: str,
    repro: str,
    clause_id: str = "RB-4",
    stray_clause: str = "RB-9",
) -> None:
    """Sampling 40 * size() items must hit exactly the model's ids (`clause_id`, RB-9)."""
    __tracebackhide__ = True
    batch = 40 * model.size()
    call = f"get_shuffled({batch}) {what}"
    sample = rb.get_shuffled(batch)
    seen = set(check_sample(sample, batch, model, call, repro, clause_id, stray_clause))
    expect(
        seen == set(model.ids()),
        clause_id,
        f"{call}: sampled ids {sorted(seen)}, but the stored items should be exactly the last "
        f"{model.size()} put: {model.ids()}",
        repro,
    )


@clause("RB-1")
def test_constructor(impl: Any) -> None:
    for max_size in (1, 7):
        size = impl.ReplayBuffer(max_size).size()
        expect(
            size == 0,
            "RB-1",
            f"ReplayBuffer({max_size}).size() = {size!r}",
            f"print(impl.ReplayBuffer({max_size}).size())",
        )
    for bad, exc_type in ((0, ValueError), (-3, ValueError), (2.5, TypeError), ("4", TypeError)):
        expect_raises(
            exc_type,
            "RB-1",
            f"ReplayBuffer({bad!r})",
            functools.partial(impl.ReplayBuffer, bad),
            f"impl.ReplayBuffer({bad!r})",
        )


def make_buffer_machine(impl: Any) -> type[RuleBasedStateMachine]:
    """Valid puts of random sizes (wrap-around, N > max_size) against the deque model."""

    class ReplayBufferMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[str] = [HELPER]
            # the clause an eviction mismatch is reported under: RB-5 right after a put of
            # more than max_size items, RB-4 otherwise
            self.eviction_clause = "RB-4"

        def repro(self, last: str) -> str:
            return "\n".join([*self.log, last])

        @initialize(max_size=st.integers(1, 12), time_size=st.integers(1, 3))
        def create(self, max_size: int, time_size: int) -> None:
            self.rb = impl.ReplayBuffer(max_size)
            self.model = ReplayBufferModel(max_size)
            self.time_size = time_size
            self.log.append(f"rb = impl.ReplayBuffer({max_size})")

        @rule(data=st.data())
        def put(self, data: st.DataObject) -> None:
            n = data.draw(st.integers(1, 2 * self.model.capacity + 3), label="N")
            first = self.model.next_id
            self.log.append(f"rb.put(items_workspace(impl, {first}, {n}, {self.time_size}))")
            self.eviction_clause = "RB-5" if n > self.model.capacity else "RB-4"
            try:
                self.rb.put(items_workspace(impl, first, n, self.time_size))
                problem = None
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            expect(
                problem is None,
                "RB-5" if n > self.model.capacity else "RB-2",
                f"a valid put of {n} items into max_size {self.model.capacity} raised {problem}",
                self.repro(""),
            )
            self.model.put(item_values(first, n, self.time_size))

        @precondition(lambda self: self.model.size() > 0)
        @rule(batch_size=st.integers(1, 20))
        def sample(self, batch_size: int) -> None:
            call = f"rb.get_shuffled({batch_size})"
            sample = self.rb.get_shuffled(batch_size)
            repro = self.repro(f"s = {call}\n{_SHOW_SAMPLE}")
            check_sample(
                sample, batch_size, self.model, call, repro, self.eviction_clause, layout=True
            )

        @invariant()
        def size_matches(self) -> None:
            size = self.rb.size()
            expect(
                type(size) is int and size == self.model.size(),
                "RB-3",
                f"rb.size() = {size!r} after {self.model.next_id} items put into max_size "
                f"{self.model.capacity}, expected {self.model.size()}",
                self.repro("print(rb.size())"),
            )

        @precondition(lambda self: self.model.size() > 0)
        @invariant()
        def stored_items_match(self) -> None:
            batch = 40 * self.model.size()
            call = f"ids = [int(i) // 10 for i in rb.get_shuffled({batch})['id'][0]]"
            repro = self.repro(call + "\nprint(sorted(set(ids)))")
            check_stored_ids(self.rb, self.model, "after the puts", repro, self.eviction_clause)

    return ReplayBufferMachine


@clause("RB-2", "RB-3", "RB-4", "RB-5", "RB-8", "RB-9", "RB-11")
def test_replay_buffer_state_machine(impl: Any) -> None:
    run_state_machine_as_test(make_buffer_machine(impl))


@clause("RB-8")
def test_sample_layout(impl: Any) -> None:
    rb = impl.ReplayBuffer(4)
    model = ReplayBufferModel(4)
    for first, n in ((0, 3), (3, 2)):  # the second put wraps around
        rb.put(items_workspace(impl, first, n))
        model.put(item_values(first, n))
    repro = (
        f"{HELPER}\nrb = impl.ReplayBuffer(4)\nrb.put(items_workspace(impl, 0, 3))\n"
        "rb.put(items_workspace(impl, 3, 2))\ns = rb.get_shuffled(6)\n"
        "print({k: (s[k].shape, s[k].dtype, s[k].is_contiguous()) for k in s.keys()})"
    )
    check_sample(rb.get_shuffled(6), 6, model, "rb.get_shuffled(6)", repro, layout=True)


@clause("RB-5")
@given(max_size=st.integers(1, 6), prefix=st.integers(0, 6), extra=st.integers(1, 9))
def test_oversize_put_keeps_last_items(impl: Any, max_size: int, prefix: int, extra: int) -> None:
    prefix = min(prefix, max_size)  # the first put fits; the second one is oversize
    n = max_size + extra
    rb = impl.ReplayBuffer(max_size)
    model = ReplayBufferModel(max_size)
    lines = [HELPER, f"rb = impl.ReplayBuffer({max_size})"]
    if prefix:
        rb.put(items_workspace(impl, 0, prefix))
        model.put(item_values(0, prefix))
        lines.append(f"rb.put(items_workspace(impl, 0, {prefix}))")
    lines.append(f"rb.put(items_workspace(impl, {prefix}, {n}))")
    repro = "\n".join([*lines, f"print(rb.size(), rb.get_shuffled({40 * max_size})['id'][0])"])
    try:
        rb.put(items_workspace(impl, prefix, n))
        problem = None
    except Exception as exc:
        problem = f"put raised {type(exc).__name__}: {exc}"
    expect(problem is None, "RB-5", f"put of {n} items into max_size {max_size}: {problem}", repro)
    model.put(item_values(prefix, n))
    expect(
        rb.size() == max_size,
        "RB-5",
        f"after a put of {n} items into max_size {max_size}: size() = {rb.size()}",
        repro,
    )
    check_stored_ids(rb, model, f"after a put of {n} > max_size={max_size} items", repro, "RB-5")


BAD_PUTS: dict[str, tuple[type[BaseException], str]] = {
    "missing": (KeyError, "without the variable 'flag'"),
    "extra": (KeyError, "with an extra variable 'more'"),
    "time": (ValueError, "with T=3 instead of 2"),
    "shape": (ValueError, "with 'obs' of item shape (4,) instead of (3,)"),
    "dtype": (TypeError, "with 'obs' of dtype float64 instead of float32"),
}


def bad_workspace(impl: Any, kind: str, first: int, n: int) -> Any:
    """A put workspace that breaks the schema fixed by `items_workspace(..., T=2)`."""
    ws = items_workspace(impl, first, n, 3 if kind == "time" else 2)
    if kind == "time":
        return ws
    values = {name: ws.get_full(name) for name in ("id", "obs", "flag")}
    if kind == "missing":
        del values["flag"]
    elif kind == "extra":
        values["more"] = torch.zeros(2, n)
    elif kind == "shape":
        values["obs"] = torch.zeros(2, n, 4)
    elif kind == "dtype":
        values["obs"] = values["obs"].double()
    out = impl.Workspace()
    for name, value in values.items():
        out.set_full(name, value)
    return out


BAD_HELPER = HELPER + "\n\n" + inspect.getsource(bad_workspace)


@st.composite
def _fitting_sizes(draw: st.DrawFn, max_size: int) -> list[int]:
    """Sizes of 1..3 valid puts, each at most max_size (oversize puts are RB-5's test)."""
    return draw(st.lists(st.integers(1, max_size), min_size=1, max_size=3))


@clause("RB-6", "RB-7")
@given(
    max_size=st.integers(1, 8),
    kind=st.sampled_from(sorted(BAD_PUTS)),
    bad_n=st.integers(1, 10),
    data=st.data(),
)
def test_schema_errors_leave_buffer_unchanged(
    impl: Any, max_size: int, kind: str, bad_n: int, data: st.DataObject
) -> None:
    sizes = data.draw(_fitting_sizes(max_size), label="valid put sizes")
    rb = impl.ReplayBuffer(max_size)
    twin = impl.ReplayBuffer(max_size)  # same puts, never given the bad one
    model = ReplayBufferModel(max_size)
    lines = [BAD_HELPER, f"rb = impl.ReplayBuffer({max_size})"]
    for n in sizes:
        first = model.next_id
        rb.put(items_workspace(impl, first, n))
        twin.put(items_workspace(impl, first, n))
        model.put(item_values(first, n))
        lines.append(f"rb.put(items_workspace(impl, {first}, {n}))")
    exc_type, how = BAD_PUTS[kind]
    call = f"rb.put(bad_workspace(impl, {kind!r}, {model.next_id}, {bad_n}))"
    repro = "\n".join([*lines, call, "print(rb.size())"])
    expect_raises(
        exc_type,
        "RB-6",
        f"put of {bad_n} items {how}, after puts of {sizes} (schema: id, obs, flag; T=2)",
        functools.partial(rb.put, bad_workspace(impl, kind, model.next_id, bad_n)),
        repro,
    )
    rejected = raising("\n".join([*lines, call]), exc_type)  # checked to raise
    expect(
        rb.size() == model.size(),
        "RB-7",
        f"{call} raised, but size() went from {model.size()} to {rb.size()}",
        rejected + "\nprint(rb.size())",
    )
    repro = f"{rejected}\n{_show_stored('rb', model.size())}"
    check_stored_ids(rb, model, f"after the rejected {call}", repro, "RB-7", "RB-7")
    # the ring position must not have moved either: the next evictions follow the model
    first = model.next_id
    extra_n = max(max_size - 1, 1)
    more = f"rb.put(items_workspace(impl, {first}, {extra_n}))"
    rb.put(items_workspace(impl, first, extra_n))
    twin.put(items_workspace(impl, first, extra_n))
    model.put(item_values(first, extra_n))
    repro = "\n".join([rejected, more, _show_stored("rb", model.size())])
    check_stored_ids(rb, model, "after the rejected put and a valid one", repro, "RB-7", "RB-7")
    seeded = "get_shuffled(50, generator=torch.Generator().manual_seed(1234))"
    got = rb.get_shuffled(50, generator=torch.Generator().manual_seed(1234))
    want = twin.get_shuffled(50, generator=torch.Generator().manual_seed(1234))
    # the twin: the same puts without the rejected one
    twin_lines = [
        line.replace("rb = ", "twin = ").replace("rb.put(", "twin.put(")
        for line in [*lines[1:], more]
    ]
    for name in ("id", "obs", "flag"):
        expect_equal_tensors(
            got[name],
            want[name],
            "RB-7",
            f"{seeded}[{name!r}] differs between a buffer that got the rejected {call} and one "
            "that got the same valid puts only",
            "\n".join([rejected, more, *twin_lines])
            + f"\nprint(rb.{seeded}[{name!r}])\nprint(twin.{seeded}[{name!r}])",
        )


@clause("RB-9")
def test_sampling_is_uniform(impl: Any) -> None:
    """Chi-square goodness of fit over 9 stored items after a wrap-around; p < 1e-4 fails."""
    max_size, draws = 9, 9000
    rb = impl.ReplayBuffer(max_size)
    rb.put(items_workspace(impl, 0, 5))
    rb.put(items_workspace(impl, 5, 8))  # wraps: items 4..12 stored
    torch.manual_seed(20240601)
    ids = _sample_ids(rb.get_shuffled(draws))
    counts = [ids.count(i) for i in range(4, 13)]
    repro = (
        f"{HELPER}\nrb = impl.ReplayBuffer(9)\nrb.put(items_workspace(impl, 0, 5))\n"
        "rb.put(items_workspace(impl, 5, 8))\ntorch.manual_seed(20240601)\n"
        f"ids = [int(i) // 10 for i in rb.get_shuffled({draws})['id'][0]]\n"
        "print([ids.count(i) for i in range(13)])"
    )
    expect(
        sum(counts) == draws,
        "RB-9",
        f"get_shuffled({draws}) returned ids outside the stored 4..12: "
        f"{sorted(set(ids) - set(range(4, 13)))}",
        repro,
    )
    expected = draws / max_size
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    # survival function of chi-square with 8 degrees of freedom (even: closed form)
    half = chi2 / 2
    p_value = math.exp(-half) * sum(half**i / math.factorial(i) for i in range(4))
    expect(
        p_value > 1e-4,
        "RB-9",
        f"get_shuffled({draws}) over 9 stored items: counts {counts}, chi2 = {chi2:.1f} "
        f"(8 dof), p = {p_value:.2e} < 1e-4: not uniform",
        repro,
    )


@clause("RB-10")
def test_get_shuffled_errors(impl: Any) -> None:
    rb = impl.ReplayBuffer(4)
    for batch_size in (1, 8):
        expect_raises(
            ValueError,
            "RB-10",
            f"get_shuffled({batch_size}) on an empty ReplayBuffer(4)",
            functools.partial(rb.get_shuffled, batch_size),
            f"rb = impl.ReplayBuffer(4)\nrb.get_shuffled({batch_size})",
        )
    rb.put(items_workspace(impl, 0, 3))
    for batch_size in (0, -1):
        expect_raises(
            ValueError,
            "RB-10",
            f"get_shuffled({batch_size}) on a buffer holding 3 items",
            functools.partial(rb.get_shuffled, batch_size),
            f"{HELPER}\nrb = impl.ReplayBuffer(4)\nrb.put(items_workspace(impl, 0, 3))\n"
            f"rb.get_shuffled({batch_size})",
        )


@clause("RB-11")
def test_stored_items_are_detached_copies(impl: Any) -> None:
    weight = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ws = impl.Workspace()
    ws.set_full("x", torch.stack([weight, weight * 2]))
    ws.set_full("id", torch.tensor([[0, 10, 20], [1, 11, 21]]))
    rb = impl.ReplayBuffer(5)
    rb.put(ws)
    repro = (
        "import torch\nweight = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
        "ws = impl.Workspace()\nws.set_full('x', torch.stack([weight, weight * 2]))\n"
        "ws.set_full('id', torch.tensor([[0, 10, 20], [1, 11, 21]]))\n"
        "rb = impl.ReplayBuffer(5)\nrb.put(ws)\n"
    )
    sample = rb.get_shuffled(30)
    expect(
        not sample["x"].requires_grad,
        "RB-11",
        "get_shuffled() of items put with autograd history requires grad",
        repro + "print(rb.get_shuffled(30)['x'].requires_grad)",
    )
    ws.set_full("x", torch.full((2, 3), -1.0))
    with torch.no_grad():
        sample["x"].fill_(-2.0)
        sample["id"].fill_(-2)
    again = rb.get_shuffled(30)
    ids = [int(i) // 10 for i in again["id"][0].tolist()]
    expected = torch.stack([torch.tensor([1.0, 2.0, 3.0])[ids], torch.tensor([2.0, 4, 6])[ids]])
    expect_equal_tensors(
        again["x"],
        expected,
        "RB-11",
        "after put(ws), ws.set_full('x', -1s) and writing -2 into an earlier sample, a new "
        "sample must still hold the values put",
        repro + "ws.set_full('x', torch.full((2, 3), -1.0))\ns = rb.get_shuffled(30)\n"
        "s['x'].detach().fill_(-2.0)\nprint(rb.get_shuffled(30)['x'])",
    )


#: integers of other types than int, as the spec's arguments take them (RB-30, TA-9)
INDEX_INTEGERS: dict[str, Any] = {
    "numpy.int64({v})": lambda v: np.int64(v),
    "numpy.int32({v})": lambda v: np.int32(v),
    "numpy.uint8({v})": lambda v: np.uint8(v),
    "torch.tensor({v})": lambda v: torch.tensor(v),
    "torch.tensor({v}, dtype=torch.int16)": lambda v: torch.tensor(v, dtype=torch.int16),
}


@clause("RB-30", "RB-1")
@pytest.mark.parametrize("spelling", list(INDEX_INTEGERS))
def test_integer_arguments_of_any_index_type(impl: Any, spelling: str) -> None:
    """max_size and batch_size given as numpy integers or 0-d integer tensors act as the int
    they stand for (a buffer of 3 keeps 3 of 5 items; a sample of 4 has 4 items); a bool
    (Python's, numpy's, a 0-d bool tensor) is refused with TypeError for both."""
    make = INDEX_INTEGERS[spelling]
    rb = impl.ReplayBuffer(make(3))
    rb.put(items_workspace(impl, 0, 5))
    sample = rb.get_shuffled(make(4))
    got = (int(rb.size()), tuple(sample.get_full("id").shape))
    code = f"rb = impl.ReplayBuffer({spelling.format(v=3)})\nrb.put(items_workspace(impl, 0, 5))\n"
    code += f"sample = rb.get_shuffled({spelling.format(v=4)})\n"
    expect(
        got == (3, (2, 4)) and set(_sample_ids(sample)) <= {2, 3, 4},
        "RB-30",
        f"(size(), sample shape) = {got}, sampled ids {_sample_ids(sample)}; want (3, (2, 4)) "
        "and ids among the last 3 put, 2..4",
        "import numpy\n" + HELPER + code + "print(rb.size(), sample['id'])",
    )
    for source, value in NOT_INTEGERS.items():
        for what, call in (
            (f"impl.ReplayBuffer({source})", functools.partial(impl.ReplayBuffer, value)),
            (f"rb.get_shuffled({source})", functools.partial(rb.get_shuffled, value)),
        ):
            repro = "import numpy\n" + HELPER + code + what
            expect_raises(TypeError, "RB-30", what, call, repro)


@clause("RB-12")
@pytest.mark.parametrize("max_size", [1, 3])
@pytest.mark.parametrize("time_size", [1, 2])
def test_state_dict_round_trip_of_an_empty_buffer(impl: Any, max_size: int, time_size: int) -> None:
    """The state of a buffer that holds nothing yet loads into a new buffer, which is then
    empty and takes its first put (any schema) as a new buffer does."""
    rb = impl.ReplayBuffer(max_size)
    copy = impl.ReplayBuffer(max_size)
    lines = [HELPER, f"rb = impl.ReplayBuffer({max_size})", f"copy = impl.ReplayBuffer({max_size})"]
    lines.append("copy.load_state_dict(rb.state_dict())")
    repro = "\n".join(lines)
    try:
        copy.load_state_dict(rb.state_dict())
    except Exception as exc:
        expect(False, "RB-12", f"the empty buffer's state did not load: {exc!r}", repro)
    expect(
        copy.size() == 0,
        "RB-12",
        f"after loading an empty buffer's state: size() = {copy.size()}, expected 0",
        repro + "\nprint(copy.size())",
    )
    model = ReplayBufferModel(max_size)
    n = max_size + 1  # wraps around: the oldest item is evicted
    copy.put(items_workspace(impl, 0, n, time_size))
    model.put(item_values(0, n, time_size))
    repro += f"\ncopy.put(items_workspace(impl, 0, {n}, {time_size}))"
    check_stored_ids(copy, model, "on the loaded empty buffer after a put", repro, "RB-12")
    sample = copy.get_shuffled(5)
    expect(
        tuple(sample.get_full("id").shape) == (time_size, 5)
        and all(i in model.ids() for i in _sample_ids(sample)),
        "RB-12",
        f"get_shuffled(5) after the put: id shape {tuple(sample.get_full('id').shape)}, items "
        f"{_sample_ids(sample)}; expected shape ({time_size}, 5) and items of {model.ids()}",
        repro + "\ns = copy.get_shuffled(5)\nprint(s.get_full('id'))",
    )


@clause("RB-12")
@given(max_size=st.integers(1, 8), data=st.data())
def test_state_dict_round_trip(impl: Any, max_size: int, data: st.DataObject) -> None:
    # puts of at most max_size items each (wrapping around): oversize puts are RB-5's test
    sizes = data.draw(st.lists(st.integers(1, max_size), min_size=1, max_size=4), label="sizes")
    rb = impl.ReplayBuffer(max_size)
    for method in ("state_dict", "load_state_dict"):
        expect(
            callable(getattr(rb, method, None)),
            "RB-12",
            f"ReplayBuffer has no {method}() method",
            f"print(impl.ReplayBuffer({max_size}).{method})",
        )
    model = ReplayBufferModel(max_size)
    lines = [HELPER, f"rb = impl.ReplayBuffer({max_size})"]
    for n in sizes:
        first = model.next_id
        rb.put(items_workspace(impl, first, n))
        model.put(item_values(first, n))
        lines.append(f"rb.put(items_workspace(impl, {first}, {n}))")
    copy = impl.ReplayBuffer(max_size)
    copy.load_state_dict(rb.state_dict())
    lines += [f"copy = impl.ReplayBuffer({max_size})", "copy.load_state_dict(rb.state_dict())"]
    repro = "\n".join(lines)
    expect(
        copy.size() == rb.size() == model.size(),
        "RB-12",
        f"after load_state_dict: size() = {copy.size()}, original {rb.size()}, "
        f"expected {model.size()}",
        repro + "\nprint(copy.size(), rb.size())",
    )
    check_stored_ids(copy, model, "on the loaded copy", repro)
    for step in ("after loading", "after one more put into both"):
        a = rb.get_shuffled(20, generator=torch.Generator().manual_seed(5))
        b = copy.get_shuffled(20, generator=torch.Generator().manual_seed(5))
        for name in ("id", "obs", "flag"):
            expect_equal_tensors(
                b[name],
                a[name],
                "RB-12",
                f"{step}: get_shuffled(20, generator=torch.Generator().manual_seed(5))"
                f"[{name!r}] of the loaded copy differs from the original's",
                repro + "\ng = lambda: torch.Generator().manual_seed(5)\n"
                "print(rb.get_shuffled(20, generator=g())['id'], "
                "copy.get_shuffled(20, generator=g())['id'])",
            )
        first = model.next_id
        more = max_size // 2 + 1
        rb.put(items_workspace(impl, first, more))
        copy.put(items_workspace(impl, first, more))
        model.put(item_values(first, more))
        lines.append(f"rb.put(items_workspace(impl, {first}, {more}))")
        lines.append(f"copy.put(items_workspace(impl, {first}, {more}))")
        repro = "\n".join(lines)
    check_stored_ids(copy, model, "on the loaded copy after two more puts", repro)


# -- every dtype and item shape ------------------------------------------------------------

SCHEMA_IMPORT = "import torch\nfrom bbrl_conformance._strategies import ItemSchema\n"


def _schema_repro(schema: ItemSchema, lines: list[str]) -> str:
    return "\n".join([SCHEMA_IMPORT + f"schema = {schema!r}", *lines])


def _show_stored(buffer: str, size: int) -> str:
    """Reproducer lines printing a sample of `40 * size` items of `buffer` (what
    `check_stored_ids` checks): the ids of the items it holds, and for each variable its shape,
    dtype and the values of each of those items (its first column in the sample)."""
    return (
        f"s = {buffer}.get_shuffled({40 * size})\n"
        "ids = [int(i) // 10 for i in s['id'][0]]\n"
        "print('stored ids:', sorted(set(ids)))\n"
        "for k in sorted(s.keys()):\n"
        "    print(k, tuple(s[k].shape), s[k].dtype)\n"
        "    for i in sorted(set(ids)):\n"
        "        print('  item', i, s[k][:, ids.index(i)].tolist())"
    )


@clause("RB-2", "RB-8", "RB-12")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_every_dtype_and_item_shape_is_stored_exactly(impl: Any, dtype: torch.dtype) -> None:
    """Items of each dtype, at its extremes (bounds, int64 beyond 2**53, NaN, infinities), of
    item rank 0, 1 and 3, come back from `get_shuffled` with their shape, dtype and values, also
    after a wrap-around and from a buffer restored by `load_state_dict`."""
    schema = ItemSchema(
        2, (("scalar", (), dtype), ("vector", (3,), dtype), ("image", (2, 3, 2), dtype))
    )
    rb = impl.ReplayBuffer(5)
    model = ReplayBufferModel(5)
    lines = ["rb = impl.ReplayBuffer(5)"]
    for first, n in ((0, 3), (3, 4)):  # the second put wraps around
        rb.put(schema.workspace(impl, first, n, seed=first))
        model.put(schema.values(first, n, seed=first))
        lines.append(f"rb.put(schema.workspace(impl, {first}, {n}, seed={first}))")
    torch.manual_seed(0)
    call = "rb.get_shuffled(60)"
    repro = _schema_repro(
        schema, [*lines, "torch.manual_seed(0)", f"s = {call}", "print(s['image'])"]
    )
    ids = check_sample(rb.get_shuffled(60), 60, model, call, repro, layout=True)
    expect(
        set(ids) == set(model.ids()),
        "RB-9",
        f"{call} of 5 stored items returned only {sorted(set(ids))}",
        repro,
    )
    copy = impl.ReplayBuffer(5)
    copy.load_state_dict(rb.state_dict())
    lines += ["copy = impl.ReplayBuffer(5)", "copy.load_state_dict(rb.state_dict())"]
    check_stored_ids(
        copy, model, "on the loaded copy", _schema_repro(schema, lines), "RB-12", "RB-12"
    )


# -- the state machine, over drawn schemas -------------------------------------------------


def make_schema_machine(impl: Any) -> type[RuleBasedStateMachine]:
    """Puts of a drawn schema (any dtypes, item ranks, T), samples, rejected puts and samples
    (RB-7: nothing changes), and restores from `state_dict` whose source is then written alone
    (RB-12: the two buffers share nothing), against the deque model after every step."""

    class SchemaMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.log: list[str] = []
            self.eviction_clause = "RB-4"
            self.puts = 0

        def repro(self, last: str) -> str:
            return _schema_repro(self.schema, [*self.log, last])

        @initialize(max_size=st.integers(1, 10), schema=item_schemas())
        def create(self, max_size: int, schema: ItemSchema) -> None:
            self.schema = schema
            self.rb = impl.ReplayBuffer(max_size)
            self.model = ReplayBufferModel(max_size)
            self.old: Any = None  # a buffer this one was restored from
            self.old_model: ReplayBufferModel | None = None
            self.log.append(f"rb = impl.ReplayBuffer({max_size})")

        @rule(data=st.data())
        def put(self, data: st.DataObject) -> None:
            n = data.draw(st.integers(1, 2 * self.model.capacity + 2), label="N")
            first, seed = self.model.next_id, self.puts
            self.puts += 1
            call = f"rb.put(schema.workspace(impl, {first}, {n}, seed={seed}))"
            self.eviction_clause = "RB-5" if n > self.model.capacity else "RB-4"
            try:
                self.rb.put(self.schema.workspace(impl, first, n, seed))
                problem = None
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            expect(
                problem is None,
                self.eviction_clause if n > self.model.capacity else "RB-2",
                f"a valid {call} (max_size {self.model.capacity}) raised {problem}",
                self.repro(call),
            )
            self.log.append(call)
            self.model.put(self.schema.values(first, n, seed))

        @precondition(lambda self: self.model.size() > 0)
        @rule(batch_size=st.integers(1, 25), seed=st.integers(0, 2**16))
        def sample(self, batch_size: int, seed: int) -> None:
            call = f"rb.get_shuffled({batch_size})"
            torch.manual_seed(seed)
            repro = self.repro(f"torch.manual_seed({seed})\ns = {call}\n{_SHOW_SAMPLE}")
            check_sample(
                self.rb.get_shuffled(batch_size),
                batch_size,
                self.model,
                call,
                repro,
                self.eviction_clause,
                layout=True,
            )

        @precondition(lambda self: self.model.size() > 0)
        @rule(data=st.data())
        def rejected_put(self, data: st.DataObject) -> None:
            kind, values, source = data.draw(
                st.sampled_from(_bad_puts(self.schema, self.model.next_id, 2)), label="bad put"
            )
            exc_type = _BAD_PUT_TYPES[kind.split(":")[0]]
            call = f"rb.put(<{kind}>)"
            ws = impl.Workspace()
            for name, value in values.items():
                ws.set_full(name, value)
            code = f"{source}\n{_PUT_VALUES}"
            expect_raises(
                exc_type,
                "RB-6",
                f"put of items {kind} (schema {self.schema})",
                functools.partial(self.rb.put, ws),
                self.repro(code),
            )
            self.log.append(raising(code, exc_type))
            self.check_unchanged("RB-7", f"after the rejected {call}")

        @precondition(lambda self: self.model.size() > 0)
        @rule(batch_size=st.sampled_from([0, -1, -5]))
        def rejected_sample(self, batch_size: int) -> None:
            call = f"rb.get_shuffled({batch_size})"
            expect_raises(
                ValueError,
                "RB-10",
                call,
                functools.partial(self.rb.get_shuffled, batch_size),
                self.repro(call),
            )
            self.log.append(raising(call, ValueError))
            self.check_unchanged("ERR-5", f"after the rejected {call}")

        @precondition(lambda self: self.model.size() > 0)
        @rule()
        def restore(self) -> None:
            copy = impl.ReplayBuffer(self.model.capacity)
            copy.load_state_dict(self.rb.state_dict())
            self.log.append(f"old, rb = rb, impl.ReplayBuffer({self.model.capacity})")
            self.log.append("rb.load_state_dict(old.state_dict())")
            self.old, self.rb = self.rb, copy
            self.old_model = copy_model(self.model)

        @precondition(lambda self: self.old is not None)
        @rule(n=st.integers(1, 4))
        def put_into_the_old_buffer_alone(self, n: int) -> None:
            assert self.old_model is not None
            first, seed = self.old_model.next_id + 1000, self.puts
            self.puts += 1
            self.old_model.next_id = first  # ids 1000 above anything the restored buffer saw
            call = f"old.put(schema.workspace(impl, {first}, {n}, seed={seed}))"
            self.old.put(self.schema.workspace(impl, first, n, seed))
            self.old_model.put(self.schema.values(first, n, seed))
            self.log.append(call)
            # the restored buffer must not see it (the invariant), nor the old one lose it
            repro = self.repro(_show_stored("old", self.old_model.size()))
            check_stored_ids(self.old, self.old_model, "in the old buffer", repro, "RB-12", "RB-12")

        def check_unchanged(self, clause_id: str, what: str) -> None:
            __tracebackhide__ = True
            expect(
                self.rb.size() == self.model.size(),
                clause_id,
                f"{what}: size() = {self.rb.size()}, expected {self.model.size()}",
                self.repro("print(rb.size())"),
            )
            repro = self.repro(_show_stored("rb", self.model.size()))
            check_stored_ids(self.rb, self.model, what, repro, clause_id, clause_id)

        @invariant()
        def size_matches(self) -> None:
            size = self.rb.size()
            expect(
                type(size) is int and size == self.model.size(),
                "RB-3",
                f"rb.size() = {size!r}, expected {self.model.size()}",
                self.repro("print(rb.size())"),
            )

        @precondition(lambda self: self.model.size() > 0)
        @invariant()
        def stored_items_match(self) -> None:
            if self.old is None:
                clause_id, stray = self.eviction_clause, "RB-9"
            else:  # a restored buffer: a wrong item can also come from the old one
                clause_id = stray = "RB-12"
            what = "after the calls"
            repro = self.repro(_show_stored("rb", self.model.size()))
            check_stored_ids(self.rb, self.model, what, repro, clause_id, stray)

    return SchemaMachine


def copy_model(model: ReplayBufferModel) -> ReplayBufferModel:
    """An independent copy of the deque model (items are immutable)."""
    copy = ReplayBufferModel(model.capacity)
    copy.items.extend(model.items)
    copy.next_id, copy.schema = model.next_id, model.schema
    return copy


_BAD_PUT_TYPES: dict[str, type[BaseException]] = {
    "missing": KeyError,
    "extra": KeyError,
    "T": ValueError,
    "item shape": ValueError,
    "dtype": TypeError,
}


#: reproducer lines putting the tensors `values` (built by a `_bad_puts` source) into `rb`
_PUT_VALUES = (
    "bad = impl.Workspace()\nfor k, v in values.items():\n    bad.set_full(k, v)\nrb.put(bad)"
)


def _bad_puts(
    schema: ItemSchema, first: int, n: int
) -> list[tuple[str, dict[str, torch.Tensor], str]]:
    """Every way one put can break `schema` (RB-6), as (kind: detail, the put's tensors, the
    reproducer source assigning them to `values`, given `schema`)."""
    good = schema.values(first, n)
    start = f"values = schema.values({first}, {n})\n"
    T = schema.time_size
    bad: list[tuple[str, dict[str, torch.Tensor], str]] = []
    for name in good:
        bad.append(
            (
                f"missing: without {name!r}",
                {k: v for k, v in good.items() if k != name},
                f"{start}del values[{name!r}]",
            )
        )
    bad.append(
        (
            "extra: with 'more'",
            {**good, "more": torch.zeros(T, n)},
            f"{start}values['more'] = torch.zeros({T}, {n})",
        )
    )
    for time_size in (T - 1, T + 1):
        if time_size >= 1:
            bad.append(
                (
                    f"T: T={time_size} instead of {T}",
                    ItemSchema(time_size, schema.fields).values(first, n),
                    f"values = ItemSchema({time_size}, schema.fields).values({first}, {n})",
                )
            )
    for name, item, dtype in schema.fields:
        for shape in other_item_shapes(item):
            bad.append(
                (
                    f"item shape: {name!r} of {shape} instead of {item}",
                    {**good, name: torch.zeros((T, n, *shape), dtype=dtype)},
                    f"{start}values[{name!r}] = torch.zeros({(T, n, *shape)}, dtype={dtype})",
                )
            )
        for other in other_dtypes(dtype):
            bad.append(
                (
                    f"dtype: {name!r} of {other} instead of {dtype}",
                    {**good, name: good[name].to(other)},
                    f"{start}values[{name!r}] = values[{name!r}].to({other})",
                )
            )
    return bad


@clause("RB-2", "RB-3", "RB-4", "RB-5", "RB-6", "RB-7", "RB-8", "RB-9", "RB-10", "RB-12", "ERR-5")
def test_schema_state_machine(impl: Any) -> None:
    run_state_machine_as_test(make_schema_machine(impl))


def _bad_puts_raise(
    impl: Any, rb: Any, schema: ItemSchema, first: int, lines: list[str], where: str
) -> Iterator[tuple[str, str, type[BaseException], str]]:
    """Put each of ``_bad_puts(schema, first, 2)`` into ``rb``, which must raise RB-6's error;
    after each, yield its kind, its source, the error and a reproducer ending with that put."""
    __tracebackhide__ = True
    for kind, values, source in _bad_puts(schema, first, 2):
        ws = impl.Workspace()
        for name, value in values.items():
            ws.set_full(name, value)
        exc_type = _BAD_PUT_TYPES[kind.split(":")[0]]
        repro = _schema_repro(schema, [*lines, source, _PUT_VALUES])
        expect_raises(
            exc_type,
            "RB-6",
            f"put of 2 items {kind} {where}",
            functools.partial(rb.put, ws),
            repro,
        )
        yield kind, source, exc_type, raising(repro, exc_type)


@clause("RB-6", "RB-7")
@given(schema=item_schemas(max_fields=2), max_size=st.integers(1, 6))
def test_every_schema_error_is_rejected(impl: Any, schema: ItemSchema, max_size: int) -> None:
    """Both sides of RB-6: a variable missing or extra, T smaller and larger, each item side
    smaller and larger and the rank lower and higher, every other dtype; each put raises and
    leaves the buffer as a twin that never saw it (size, items, seeded samples)."""
    rb, twin = impl.ReplayBuffer(max_size), impl.ReplayBuffer(max_size)
    model = ReplayBufferModel(max_size)
    n = max_size + 1 if max_size > 1 else 1  # a full buffer that wrapped
    for buffer in (rb, twin):
        buffer.put(schema.workspace(impl, 0, n))
    model.put(schema.values(0, n))
    lines = [f"rb = impl.ReplayBuffer({max_size})", f"rb.put(schema.workspace(impl, 0, {n}))"]
    rejected = []  # the rejected puts made so far, for the last check's reproducer
    where = f"into a buffer of schema {schema}"
    for kind, source, exc_type, repro in _bad_puts_raise(impl, rb, schema, n, lines, where):
        rejected.append(raising(f"{source}\n{_PUT_VALUES}", exc_type))
        expect(
            rb.size() == model.size(),
            "RB-7",
            f"the rejected put ({kind}) changed size() from {model.size()} to {rb.size()}",
            repro + "\nprint(rb.size())",
        )
        got = rb.get_shuffled(30, generator=torch.Generator().manual_seed(9))
        want = twin.get_shuffled(30, generator=torch.Generator().manual_seed(9))
        expect_equal_tensors(
            got["id"],
            want["id"],
            "RB-7",
            f"after the rejected put ({kind}): a seeded sample differs from a buffer that never "
            "saw it (ids of the sampled items)",
            repro
            + "\nprint(rb.get_shuffled(30, generator=torch.Generator().manual_seed(9))['id'])",
        )
    repro = _schema_repro(schema, [*lines, *rejected, _show_stored("rb", model.size())])
    check_stored_ids(rb, model, "after every rejected put", repro, "RB-7", "RB-7")


@clause("RB-6", "RB-7")
@given(schema=item_schemas(max_fields=2), max_size=st.integers(1, 6))
def test_a_first_put_of_no_items_fixes_the_schema(
    impl: Any, schema: ItemSchema, max_size: int
) -> None:
    """RB-6 when the first put holds no item (a workspace of batch size 0, e.g. every pair
    filtered out): it still fixes the schema, so every put that breaks it raises and leaves
    the buffer empty, and a put that follows it is accepted."""
    rb = impl.ReplayBuffer(max_size)
    rb.put(schema.workspace(impl, 0, 0))
    lines = [f"rb = impl.ReplayBuffer({max_size})", "rb.put(schema.workspace(impl, 0, 0))"]
    where = f"after a first put of 0 items of schema {schema}"
    for kind, _, _, repro in _bad_puts_raise(impl, rb, schema, 0, lines, where):
        expect(
            rb.size() == 0,
            "RB-7",
            f"the rejected put ({kind}) changed size() from 0 to {rb.size()}",
            repro + "\nprint(rb.size())",
        )
    code = "rb.put(schema.workspace(impl, 0, 2))"
    try:
        rb.put(schema.workspace(impl, 0, 2))
        problem = None
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "RB-6",
        f"a put of the schema fixed by a first put of 0 items raised {problem}",
        _schema_repro(schema, [*lines, code]),
    )


# -- RB-9: the distribution of samples -----------------------------------------------------

#: a test fails when its p-value is below ALPHA divided by the number of p-values it computes:
#: a correct implementation fails it with probability below ALPHA (Bonferroni; chi-square
#: p-values are the usual approximation, with at least 30 expected draws per category)
ALPHA = 1e-6


def _valid_put(rb: Any, ws: Any, n: int, max_size: int, repro: str) -> None:
    """A put the spec allows; if it raises, that is the put's clause (RB-5 for N > max_size,
    else RB-2), not the sampling test's."""
    __tracebackhide__ = True
    try:
        rb.put(ws)
    except Exception as exc:
        raise ConformanceFailure(
            "RB-5" if n > max_size else "RB-2",
            f"a valid put of {n} items into max_size {max_size} raised {type(exc).__name__}: {exc}",
            repro,
        ) from exc


def _sampled_ids(rb: Any, batch_size: int) -> list[int]:
    return _sample_ids(rb.get_shuffled(batch_size))


#: (label, max_size, sizes of the puts): partial fills, exact fills, wrap-arounds, oversize
FILLS: list[tuple[str, int, list[int]]] = [
    ("partial, one put", 20, [7]),
    ("partial, puts of 3 and 4", 20, [3, 4]),
    ("partial, 7 puts of 1", 20, [1] * 7),
    ("full, one put", 9, [9]),
    ("full after a wrap-around", 9, [5, 8]),
    ("full after an oversize put", 9, [4, 30]),
]


@clause("RB-9", "RB-2", "RB-5")
def test_sampling_is_uniform_however_the_buffer_was_filled(impl: Any) -> None:
    """Uniform over the stored items at partial fill and when full, whatever the order and
    sizes of the puts: 1000 draws per stored item, chi-square p-value against uniform; false
    alarm below ALPHA for the whole test."""
    for label, max_size, sizes in FILLS:
        rb, model = impl.ReplayBuffer(max_size), ReplayBufferModel(max_size)
        lines = [HELPER, f"rb = impl.ReplayBuffer({max_size})"]
        for n in sizes:
            first = model.next_id
            lines.append(f"rb.put(items_workspace(impl, {first}, {n}))")
            _valid_put(rb, items_workspace(impl, first, n), n, max_size, "\n".join(lines))
            model.put(item_values(first, n))
        stored = model.ids()
        draws = 1000 * len(stored)
        torch.manual_seed(len(lines))
        ids = _sampled_ids(rb, draws)
        counts = [ids.count(i) for i in stored]
        p_value = uniformity_p_value(counts)
        repro = "\n".join(
            [
                *lines,
                f"torch.manual_seed({len(lines)})",
                f"ids = [int(i) // 10 for i in rb.get_shuffled({draws})['id'][0]]",
                f"print({{i: ids.count(i) for i in {stored}}})  # expected about 1000 each",
            ]
        )
        expect(
            sum(counts) == draws,
            "RB-9",
            f"{label}: get_shuffled({draws}) returned ids outside the stored {stored}",
            repro,
        )
        expect(
            p_value > ALPHA / len(FILLS),
            "RB-9",
            f"{label} (max_size {max_size}, puts of {sizes}): get_shuffled({draws}) drew the "
            f"stored items {stored} {counts} times: chi-square p = {p_value:.2e} < "
            f"{ALPHA / len(FILLS):.1e}, not uniform",
            repro,
        )


@clause("RB-9")
def test_sampling_is_with_replacement(impl: Any) -> None:
    """A batch of k <= size() items drawn with replacement repeats an item with probability
    1 - m!/((m-k)! m^k) for m stored items; over 60 batches the number with a repeat is
    binomial. Two-sided exact tail; false alarm below ALPHA for the whole test."""
    cases = [(10, 5), (10, 10), (4, 2)]  # (stored items, batch size)
    for stored, batch in cases:
        rb = impl.ReplayBuffer(stored)
        rb.put(items_workspace(impl, 0, stored))
        p_repeat = 1 - math.perm(stored, batch) / stored**batch
        torch.manual_seed(stored * 100 + batch)
        batches = 60
        repeats = sum(len(set(_sampled_ids(rb, batch))) < batch for _ in range(batches))
        tail = binomial_tail(repeats, batches, p_repeat)
        expect(
            tail > ALPHA / len(cases),
            "RB-9",
            f"{batches} batches get_shuffled({batch}) from {stored} stored items: {repeats} held "
            f"an item twice, expected about {batches * p_repeat:.1f} (sampling with replacement; "
            f"binomial tail {tail:.2e} < {ALPHA / len(cases):.1e})",
            f"{HELPER}\nrb = impl.ReplayBuffer({stored})\n"
            f"rb.put(items_workspace(impl, 0, {stored}))\n"
            f"torch.manual_seed({stored * 100 + batch})\n"
            f"batches = [[int(i) // 10 for i in rb.get_shuffled({batch})['id'][0]] for _ in "
            f"range({batches})]\nprint(sum(len(set(b)) < {batch} for b in batches), 'of "
            f"{batches} batches repeat an item; expected about {batches * p_repeat:.0f}')",
        )


@clause("RB-9")
def test_every_position_of_a_batch_is_uniform_and_independent(impl: Any) -> None:
    """Each column of a batch is an independent uniform draw: the first and the last column
    over 400 batches of 4 are uniform over 8 stored items (chi-square, 7 dof), and in one batch
    of 4000 the pairs of neighbouring columns are uniform over the 64 pairs (63 dof). False
    alarm below ALPHA for the whole test."""
    rb = impl.ReplayBuffer(8)
    rb.put(items_workspace(impl, 0, 5))
    rb.put(items_workspace(impl, 5, 6))  # wraps: items 3..10 stored, the ring not at slot 0
    stored = list(range(3, 11))
    torch.manual_seed(4)
    batches = [_sampled_ids(rb, 4) for _ in range(400)]
    big = _sampled_ids(rb, 4000)
    pairs = [(big[2 * i], big[2 * i + 1]) for i in range(2000)]
    checks = {
        "column 0 of 400 batches of 4": [[b[0] for b in batches].count(i) for i in stored],
        "column 3 of 400 batches of 4": [[b[3] for b in batches].count(i) for i in stored],
        "neighbouring pairs in a batch of 4000": [
            pairs.count((i, j)) for i in stored for j in stored
        ],
    }
    setup = (
        f"{HELPER}\nrb = impl.ReplayBuffer(8)\nrb.put(items_workspace(impl, 0, 5))\n"
        "rb.put(items_workspace(impl, 5, 6))\ntorch.manual_seed(4)\n"
        "batches = [[int(i) // 10 for i in rb.get_shuffled(4)['id'][0]] for _ in range(400)]\n"
    )
    for what, counts in checks.items():
        p_value = uniformity_p_value(counts)
        expect(
            p_value > ALPHA / len(checks),
            "RB-9",
            f"{what} from 8 stored items: counts {counts}, chi-square p = {p_value:.2e} < "
            f"{ALPHA / len(checks):.1e}: the columns of a batch are not independent uniform "
            "draws",
            setup + f"print([[b[0] for b in batches].count(i) for i in {stored}])",
        )


# -- RB-11, RB-12: copies through every write path -----------------------------------------

#: ways to change the source workspace after `rb.put(ws)` (its 'obs' is float32 [2, 3, 3])
_SOURCE_CHANGES: dict[str, str] = {
    "set a row": "ws.set('obs', 0, torch.full((3, 3), -1.0))",
    "set_full": "ws.set_full('obs', torch.full((2, 3, 3), -2.0))",
    "copy_n_last_steps(1)": "ws.copy_n_last_steps(1)",
    "zero_grad": "ws.zero_grad()",
    "clear()": "ws.clear()",
    "the caller's tensor, in place": "obs.fill_(-3.0)",
}
#: ways to change a sample `s` afterwards
_SAMPLE_CHANGES: dict[str, str] = {
    "fill_ on get_full": "s.get_full('obs').fill_(-4.0)",
    "set a row": "s.set('obs', 0, torch.full((6, 3), -5.0))",
    "set_full": "s.set_full('obs', torch.full((2, 6, 3), -6.0))",
    "copy_n_last_steps(1)": "s.copy_n_last_steps(1)",
    "clear()": "s.clear()",
}


def _change_source(ws: Any, obs: torch.Tensor, how: str) -> None:
    with torch.no_grad():
        if how == "set a row":
            ws.set("obs", 0, torch.full((3, 3), -1.0))
        elif how == "set_full":
            ws.set_full("obs", torch.full((2, 3, 3), -2.0))
        elif how == "copy_n_last_steps(1)":
            ws.copy_n_last_steps(1)
        elif how == "zero_grad":
            ws.zero_grad()
        elif how == "clear()":
            ws.clear()
        else:
            obs.fill_(-3.0)


def _change_sample(s: Any, how: str) -> None:
    with torch.no_grad():
        if how == "fill_ on get_full":
            s.get_full("obs").fill_(-4.0)
        elif how == "set a row":
            s.set("obs", 0, torch.full((6, 3), -5.0))
        elif how == "set_full":
            s.set_full("obs", torch.full((2, 6, 3), -6.0))
        elif how == "copy_n_last_steps(1)":
            s.copy_n_last_steps(1)
        else:
            s.clear()


COPY_SETUP = (
    "import torch\nweight = torch.ones(1, requires_grad=True)\n"
    "obs = torch.arange(18.0).reshape(2, 3, 3)\nws = impl.Workspace()\n"
    "ws.set_full('id', torch.tensor([[0, 10, 20], [1, 11, 21]]))\n{write}\n"
    "rb = impl.ReplayBuffer(4)\nrb.put(ws)\n"
)
_SOURCE_WRITES = {
    "set_full": "ws.set_full('obs', obs)",
    "set rows": "for t in range(2):\n    ws.set('obs', t, obs[t])",
    "set rows with grad": "for t in range(2):\n    ws.set('obs', t, obs[t] * weight)",
}


def _copy_source(impl: Any, write: str) -> tuple[Any, torch.Tensor]:
    weight = torch.ones(1, requires_grad=True)
    obs = torch.arange(18.0).reshape(2, 3, 3)
    ws = impl.Workspace()
    ws.set_full("id", torch.tensor([[0, 10, 20], [1, 11, 21]]))
    if write == "set_full":
        ws.set_full("obs", obs)
    else:
        for t in range(2):
            ws.set("obs", t, obs[t] * weight if write == "set rows with grad" else obs[t])
    return ws, obs


@clause("RB-11")
def test_stored_items_survive_every_later_write(impl: Any) -> None:
    """After `rb.put(ws)`, no write reaches the buffer: the source rewritten by a row, by
    `set_full`, `copy_n_last_steps`, `zero_grad`, `clear`, the caller's tensor changed in place,
    a sample rewritten in each way the API allows, the same workspace put twice."""
    want = torch.arange(18.0).reshape(2, 3, 3)
    for write in _SOURCE_WRITES:
        for target, changes in (("source", _SOURCE_CHANGES), ("sample", _SAMPLE_CHANGES)):
            for how, code in changes.items():
                ws, obs = _copy_source(impl, write)
                rb = impl.ReplayBuffer(4)
                rb.put(ws)
                if target == "source":
                    _change_source(ws, obs, how)
                else:
                    _change_sample(rb.get_shuffled(6), how)
                    code = f"s = rb.get_shuffled(6)\n{code}"
                torch.manual_seed(1)
                sample = rb.get_shuffled(12)
                ids = _sample_ids(sample)
                expected = want[:, ids]
                repro = (
                    COPY_SETUP.format(write=_SOURCE_WRITES[write])
                    + f"{code}\ntorch.manual_seed(1)\ns = rb.get_shuffled(12)\n"
                    "ids = [int(i) // 10 for i in s['id'][0]]\n"
                    "assert torch.equal(s['obs'], torch.arange(18.0).reshape(2, 3, 3)[:, ids]), "
                    "s['obs']"
                )
                expect_equal_tensors(
                    sample["obs"],
                    expected,
                    "RB-11",
                    f"'obs' written with {write}, rb.put(ws), then {target} changed by {how}: "
                    "the buffer must still hold the values put",
                    repro,
                )
    ws, obs = _copy_source(impl, "set_full")
    rb = impl.ReplayBuffer(8)
    rb.put(ws)
    rb.put(ws)  # the same workspace twice: two copies
    ws.set("obs", 1, torch.full((3, 3), -7.0))
    torch.manual_seed(2)
    sample = rb.get_shuffled(24)
    expect_equal_tensors(
        sample["obs"],
        want[:, _sample_ids(sample)],
        "RB-11",
        "rb.put(ws) twice, then ws.set('obs', 1, -7s): the buffer must hold the values put",
        COPY_SETUP.format(write=_SOURCE_WRITES["set_full"]).replace(
            "rb = impl.ReplayBuffer(4)\nrb.put(ws)",
            "rb = impl.ReplayBuffer(8)\nrb.put(ws)\nrb.put(ws)",
        )
        + "ws.set('obs', 1, torch.full((3, 3), -7.0))\nprint(rb.get_shuffled(24)['obs'])",
    )


@clause("RB-12")
@given(max_size=st.integers(1, 6), fill=st.integers(1, 12), more=st.integers(1, 6))
def test_restored_buffer_is_independent(impl: Any, max_size: int, fill: int, more: int) -> None:
    """A buffer restored with `load_state_dict` and the one its state came from share nothing:
    a put into either one alone leaves the other as it was (size, items, later samples)."""
    setup = (
        f"{HELPER}\nrb = impl.ReplayBuffer({max_size})\nrb.put(items_workspace(impl, 0, {fill}))\n"
        f"copy = impl.ReplayBuffer({max_size})\ncopy.load_state_dict(rb.state_dict())\n"
    )
    for written, untouched in (("copy", "rb"), ("rb", "copy")):
        rb = impl.ReplayBuffer(max_size)
        rb.put(items_workspace(impl, 0, fill))
        copy = impl.ReplayBuffer(max_size)
        copy.load_state_dict(rb.state_dict())
        model = ReplayBufferModel(max_size)
        model.put(item_values(0, fill))
        buffers = {"rb": rb, "copy": copy}
        buffers[written].put(items_workspace(impl, 100, more))
        code = f"{written}.put(items_workspace(impl, 100, {more}))\n"
        check_stored_ids(
            buffers[untouched],
            model,
            f"in {untouched} after a put of {more} items into {written} alone",
            setup
            + code
            + f"print(sorted({{int(i) // 10 for i in {untouched}.get_shuffled(200)['id'][0]}}))",
            "RB-12",
            "RB-12",
        )


@clause("RB-18", "RB-2", "RB-8", "RB-12")
@pytest.mark.parametrize("beside", [False, True], ids=["alone", "beside-another"])
def test_items_with_a_side_of_size_zero(impl: Any, beside: bool) -> None:
    """Items whose shape has a side of size 0, alone or beside ordinary items: puts that wrap
    around, samples of the right shape, and a `state_dict` round trip."""
    ws = impl.Workspace()
    ws.set_full("z", torch.zeros(2, 3, 2, 0))
    lines = ["ws = impl.Workspace()", "ws.set_full('z', torch.zeros(2, 3, 2, 0))"]
    if beside:
        ws.set_full("a", torch.arange(6, dtype=torch.float32).reshape(2, 3))
        lines.append("ws.set_full('a', torch.arange(6, dtype=torch.float32).reshape(2, 3))")
    rb = impl.ReplayBuffer(4)
    rb.put(ws)
    rb.put(ws)  # 6 items into 4 slots
    lines += ["rb = impl.ReplayBuffer(4)", "rb.put(ws)", "rb.put(ws)"]
    copy = impl.ReplayBuffer(4)
    copy.load_state_dict(rb.state_dict())
    lines += ["copy = impl.ReplayBuffer(4)", "copy.load_state_dict(rb.state_dict())"]
    for label, buffer in (("rb", rb), ("copy", copy)):
        repro = "import torch\n" + "\n".join(
            [*lines, f"s = {label}.get_shuffled(5)", "print({k: s[k].shape for k in s.keys()})"]
        )
        expect(buffer.size() == 4, "RB-2", f"{label}.size() is {buffer.size()}, expected 4", repro)
        sample = buffer.get_shuffled(5)
        z = sample["z"]
        expect(
            tuple(z.shape) == (2, 5, 2, 0) and z.dtype == torch.float32,
            "RB-8",
            f"{label}.get_shuffled(5)['z']: shape {tuple(z.shape)}, dtype {z.dtype}; expected "
            "(2, 5, 2, 0), torch.float32",
            repro,
        )
        if beside:
            a = sample["a"]
            pairs = {(float(a[0, i]), float(a[1, i])) for i in range(5)}
            expect(
                tuple(a.shape) == (2, 5) and pairs <= {(0.0, 3.0), (1.0, 4.0), (2.0, 5.0)},
                "RB-8",
                f"{label}.get_shuffled(5)['a'] is {a.tolist()}: its columns must be stored "
                "items ((0, 3), (1, 4) or (2, 5))",
                repro,
            )
