"""Conformance tests of spec/replay-buffer.md (RB).

Every item put carries its id in all of its variables (see `items_workspace`), so a sample
says exactly which stored items it came from. Expected contents come from
`_models.ReplayBufferModel`, a `collections.deque(maxlen=max_size)` of items.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

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

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import ReplayBufferModel


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
            repro = self.repro(call)
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
    expect(
        rb.size() == model.size(),
        "RB-7",
        f"{call} raised, but size() went from {model.size()} to {rb.size()}",
        repro,
    )
    check_stored_ids(rb, model, f"after the rejected {call}", repro, "RB-7", "RB-7")
    # the ring position must not have moved either: the next evictions follow the model
    first = model.next_id
    extra_n = max(max_size - 1, 1)
    more = f"rb.put(items_workspace(impl, {first}, {extra_n}))"
    rb.put(items_workspace(impl, first, extra_n))
    twin.put(items_workspace(impl, first, extra_n))
    model.put(item_values(first, extra_n))
    repro = "\n".join([*lines, call, more])
    check_stored_ids(rb, model, "after the rejected put and a valid one", repro, "RB-7", "RB-7")
    seeded = "get_shuffled(50, generator=torch.Generator().manual_seed(1234))"
    got = rb.get_shuffled(50, generator=torch.Generator().manual_seed(1234))
    want = twin.get_shuffled(50, generator=torch.Generator().manual_seed(1234))
    for name in ("id", "obs", "flag"):
        expect_equal_tensors(
            got[name],
            want[name],
            "RB-7",
            f"{seeded}[{name!r}] differs between a buffer that got the rejected {call} and one "
            "that got the same valid puts only",
            repro + "\n# twin: the same lines without the rejected put; then compare\n"
            f"print(rb.{seeded}['id'])",
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
