"""Conformance tests of spec/workspace.md (WS).

Expected contents come from `_models.WorkspaceModel` (a dict of per-time lists of rows). The
error contract of each call (message, nothing changed) is tested in test_errors.py; here the
tests check the exception type each WS clause names.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bbrl_conformance._assertions import expect, expect_equal_tensors, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import WorkspaceModel, observe_workspace, same_contents
from bbrl_conformance._strategies import batch_sizes, dtypes, make_values, trailing_shapes

IMPORTS = "import torch\nfrom bbrl_conformance._strategies import make_values\n"


@clause("WS-1")
def test_new_workspace_is_empty(impl: Any) -> None:
    ws = impl.Workspace()
    repro = "ws = impl.Workspace()\nprint(list(ws.keys()), ws.time_size(), ws.batch_size())"
    expect(list(ws.keys()) == [], "WS-1", f"Workspace().keys() = {list(ws.keys())}", repro)
    expect(ws.time_size() == 0, "WS-1", f"Workspace().time_size() = {ws.time_size()!r}", repro)
    expect(ws.batch_size() == 0, "WS-1", f"Workspace().batch_size() = {ws.batch_size()!r}", repro)


@clause("WS-2")
@given(
    batch=batch_sizes(),
    trailing=trailing_shapes(),
    dtype=dtypes(),
    t=st.integers(0, 5),
    seed=st.integers(0, 2**16),
)
def test_set_get_round_trip(
    impl: Any, batch: int, trailing: tuple[int, ...], dtype: torch.dtype, t: int, seed: int
) -> None:
    value = make_values((batch, *trailing), dtype, seed)
    ws = impl.Workspace()
    ws.set("x", t, value)
    code = f"make_values({(batch, *trailing)}, {dtype}, seed={seed})"
    expect_equal_tensors(
        ws.get("x", t),
        value,
        "WS-2",
        f"ws.set('x', {t}, v) with v = {code}; ws.get('x', {t}) should equal v",
        f"{IMPORTS}ws = impl.Workspace()\nv = {code}\nws.set('x', {t}, v)\nprint(ws.get('x', {t}))",
    )


@clause("WS-2")
def test_set_accepts_views(impl: Any) -> None:
    """Rows that are views (transposed, strided, lazily negated) are stored by value."""
    base = torch.arange(12.0).reshape(3, 4)
    z = torch.tensor([1 + 2j, 3 - 4j, 5 + 6j])
    views = {
        "base.t()[1]": base.t()[1],  # strided: elements 4 apart
        "base[:, ::2].t()": base[:, ::2].t(),  # [2, 3], non-contiguous
        "z.conj().imag": z.conj().imag,  # negative bit set
    }
    for code, row in views.items():
        ws = impl.Workspace()
        for t in (0, 1):  # the first write of a variable, and a later one
            ws.set("x", t, row)
        got = ws.get("x", 1)
        setup = (
            "base = torch.arange(12.0).reshape(3, 4)\nz = torch.tensor([1 + 2j, 3 - 4j, 5 + 6j])"
        )
        expect_equal_tensors(
            got,
            row.clone(),
            "WS-2",
            f"ws.set('x', t, {code}) for t = 0, 1; ws.get('x', 1) should equal {code}",
            f"import torch\n{setup}\nws = impl.Workspace()\nws.set('x', 0, {code})\n"
            f"ws.set('x', 1, {code})\nprint(ws.get('x', 1), {code})",
        )


@clause("WS-3")
@given(
    first=st.integers(0, 3),
    gap=st.integers(1, 6),
    trailing=trailing_shapes(),
    dtype=dtypes(),
)
def test_growth_zero_fills_the_gap(
    impl: Any, first: int, gap: int, trailing: tuple[int, ...], dtype: torch.dtype
) -> None:
    shape = (2, *trailing)
    model = WorkspaceModel()
    ws = impl.Workspace()
    lines = [f"{IMPORTS}ws = impl.Workspace()"]
    for t in range(first + 1):
        value = make_values(shape, dtype, seed=t)
        ws.set("x", t, value)
        model.set("x", t, value)
        lines.append(f"ws.set('x', {t}, make_values({shape}, {dtype}, seed={t}))")
    late = first + gap
    value = make_values(shape, dtype, seed=99)
    ws.set("x", late, value)
    model.set("x", late, value)
    lines.append(f"ws.set('x', {late}, make_values({shape}, {dtype}, seed=99))")
    lines.append("print(ws.time_size(), ws.get_full('x'))")
    repro = "\n".join(lines)
    expect(
        ws.time_size() == late + 1,
        "WS-3",
        f"after writing rows 0..{first} then row {late}: time_size() = {ws.time_size()}, "
        f"expected {late + 1}",
        repro,
    )
    expect_equal_tensors(
        ws.get_full("x"),
        model.get_full("x"),
        "WS-3",
        f"after writing rows 0..{first} then row {late}: rows {first + 1}..{late - 1} must be "
        f"zeros and the others unchanged",
        repro,
    )


@clause("WS-4")
def test_batch_size_is_shared(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("x", 0, torch.zeros(3))
    repro = "import torch\nws = impl.Workspace()\nws.set('x', 0, torch.zeros(3))\n"
    expect_raises(
        ValueError,
        "WS-4",
        "ws.set('y', 0, torch.zeros(2)) on a workspace of batch size 3",
        lambda: ws.set("y", 0, torch.zeros(2)),
        repro + "ws.set('y', 0, torch.zeros(2))",
    )
    expect_raises(
        ValueError,
        "WS-4",
        "ws.set('x', 1, torch.zeros(4)) on a workspace of batch size 3",
        lambda: ws.set("x", 1, torch.zeros(4)),
        repro + "ws.set('x', 1, torch.zeros(4))",
    )
    expect_raises(
        ValueError,
        "WS-4",
        "ws.set_full('z', torch.zeros(5, 2)) on a workspace of batch size 3",
        lambda: ws.set_full("z", torch.zeros(5, 2)),
        repro + "ws.set_full('z', torch.zeros(5, 2))",
    )
    expect(
        ws.batch_size() == 3,
        "WS-4",
        f"after rejected writes of batch size 2, 4 and 2: batch_size() = {ws.batch_size()}",
        repro + "print(ws.batch_size())",
    )


@clause("WS-5")
def test_item_shape_and_dtype_are_fixed(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("x", 0, torch.zeros(3, 2))
    repro = "import torch\nws = impl.Workspace()\nws.set('x', 0, torch.zeros(3, 2))\n"
    expect_raises(
        ValueError,
        "WS-5",
        "ws.set('x', 1, torch.zeros(3, 4)) on 'x' of item shape (2,)",
        lambda: ws.set("x", 1, torch.zeros(3, 4)),
        repro + "ws.set('x', 1, torch.zeros(3, 4))",
    )
    expect_raises(
        ValueError,
        "WS-5",
        "ws.set('x', 1, torch.zeros(3)) on 'x' of item shape (2,)",
        lambda: ws.set("x", 1, torch.zeros(3)),
        repro + "ws.set('x', 1, torch.zeros(3))",
    )
    for dtype in (torch.float64, torch.int64, torch.bool):
        expect_raises(
            TypeError,
            "WS-5",
            f"ws.set('x', 1, torch.zeros((3, 2), dtype={dtype})) on 'x' of dtype float32 "
            "(no silent cast)",
            functools.partial(ws.set, "x", 1, torch.zeros((3, 2), dtype=dtype)),
            repro + f"ws.set('x', 1, torch.zeros((3, 2), dtype={dtype}))",
        )
    expect(
        ws.time_size() == 1 and ws.get_full("x").dtype == torch.float32,
        "WS-5",
        "after rejected writes, 'x' should still be float32 with time size 1: got "
        f"{ws.get_full('x').dtype}, time size {ws.time_size()}",
        repro + "print(ws.get_full('x'))",
    )


@clause("WS-6")
@given(
    steps=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 2**16)), min_size=1, max_size=12),
)
def test_get_full_never_stale(impl: Any, steps: list[tuple[int, int]]) -> None:
    ws = impl.Workspace()
    model = WorkspaceModel()
    lines = [f"{IMPORTS}ws = impl.Workspace()"]
    for i, (t, seed) in enumerate(steps):
        value = make_values((3, 2), torch.float32, seed)
        ws.set("x", t, value)
        model.set("x", t, value)
        lines.append(f"ws.set('x', {t}, make_values((3, 2), torch.float32, seed={seed}))")
        lines.append("full = ws.get_full('x')")
        repro = "\n".join(lines) + "\nprint(full, ws['x'])"
        expect_equal_tensors(
            ws.get_full("x"),
            model.get_full("x"),
            "WS-6",
            f"get_full('x') after the writes {steps[: i + 1]} (t, seed)",
            repro,
        )
        expect_equal_tensors(
            ws["x"],
            model.get_full("x"),
            "WS-6",
            f"ws['x'] after the writes {steps[: i + 1]} (t, seed)",
            repro,
        )


@clause("WS-8")
def test_set_and_set_full_copy(impl: Any) -> None:
    ws = impl.Workspace()
    row = torch.tensor([1.0, 2.0])
    full = torch.tensor([[5, 6], [7, 8]])
    ws.set("x", 0, row)
    ws.set_full("y", full)
    row[0] = -1.0
    full[1, 1] = -1
    repro = (
        "import torch\nws = impl.Workspace()\nrow = torch.tensor([1.0, 2.0])\n"
        "full = torch.tensor([[5, 6], [7, 8]])\nws.set('x', 0, row)\nws.set_full('y', full)\n"
        "row[0] = -1.0\nfull[1, 1] = -1\nprint(ws.get('x', 0), ws.get_full('y'))"
    )
    expect_equal_tensors(
        ws.get("x", 0),
        torch.tensor([1.0, 2.0]),
        "WS-8",
        "ws.set('x', 0, row) then row[0] = -1: the workspace must keep the written value",
        repro,
    )
    expect_equal_tensors(
        ws.get_full("y"),
        torch.tensor([[5, 6], [7, 8]]),
        "WS-8",
        "ws.set_full('y', full) then full[1, 1] = -1: the workspace must keep the written value",
        repro,
    )


def _a2c_log_probs(
    policy: torch.nn.Module, obs: torch.Tensor, actions: torch.Tensor
) -> list[torch.Tensor]:
    """log pi(a_t | s_t) for every step: a list of `[B]` tensors with autograd history."""
    return [
        torch.log_softmax(policy(obs[t]), dim=-1).gather(1, actions[t].unsqueeze(1)).squeeze(1)
        for t in range(obs.shape[0])
    ]


A2C_REPRO = """import torch
torch.manual_seed(0)
policy = torch.nn.Linear(4, 2)
obs, actions, adv = torch.randn(100, 8, 4), torch.randint(0, 2, (100, 8)), torch.randn(100, 8)
ws = impl.Workspace()
for t in range(100):
    logp = torch.log_softmax(policy(obs[t]), -1).gather(1, actions[t].unsqueeze(1)).squeeze(1)
    ws.set('logp', t, logp)
(-(ws.get_full('logp') * adv).mean()).backward()
print([p.grad for p in policy.parameters()])"""


@clause("WS-9")
def test_autograd_through_values_written_at_each_step(impl: Any) -> None:
    steps, batch = 100, 8
    torch.manual_seed(0)
    policy = torch.nn.Linear(4, 2)
    obs = torch.randn(steps, batch, 4)
    actions = torch.randint(0, 2, (steps, batch))
    adv = torch.randn(steps, batch)

    # direct computation, no workspace
    direct = torch.stack(_a2c_log_probs(policy, obs, actions))
    torch.autograd.backward((direct * adv).mean().neg())
    expected = [p.grad.clone() for p in policy.parameters() if p.grad is not None]
    policy.zero_grad()

    for read in ("get_full", "getitem", "get"):
        ws = impl.Workspace()
        for t, logp in enumerate(_a2c_log_probs(policy, obs, actions)):
            ws.set("logp", t, logp)
        if read == "get_full":
            full = ws.get_full("logp")
        elif read == "getitem":
            full = ws["logp"]
        else:
            full = torch.stack([ws.get("logp", t) for t in range(steps)])
        try:
            (full * adv).mean().neg().backward()
            problem = None
        except RuntimeError as exc:
            problem = f"backward() raised {type(exc).__name__}: {exc}"
        expect(
            problem is None,
            "WS-9",
            f"A2C pattern over {steps} steps (set a log-prob at each t, read with {read}, "
            f"backward): {problem}",
            A2C_REPRO,
        )
        got = [p.grad for p in policy.parameters()]
        expect(
            all(g is not None and bool(g.abs().sum() > 0) for g in got),
            "WS-9",
            f"A2C pattern read with {read}: some parameter got no (or a zero) gradient: {got}",
            A2C_REPRO,
        )
        expect(
            all(
                g is not None and torch.allclose(g, e, rtol=1e-5, atol=1e-7)
                for g, e in zip(got, expected, strict=True)
            ),
            "WS-9",
            f"A2C pattern read with {read}: gradients {got} differ from the direct "
            f"computation {expected}",
            A2C_REPRO,
        )
        policy.zero_grad()


@clause("WS-10")
def test_set_after_read_keeps_backward_valid(impl: Any) -> None:
    weight = torch.ones(3, requires_grad=True)
    ws = impl.Workspace()
    ws.set("v", 0, weight * 1.0)
    ws.set("v", 1, weight * 2.0)
    full = ws.get_full("v")
    row = ws.get("v", 1)
    # writes after the reads: overwrite a row that was read, then grow well past it
    ws.set("v", 0, weight * 10.0)
    ws.set("v", 1, weight * 20.0)
    for t in range(2, 40):
        ws.set("v", t, weight * float(t))
    repro = (
        "import torch\nweight = torch.ones(3, requires_grad=True)\nws = impl.Workspace()\n"
        "ws.set('v', 0, weight * 1.0)\nws.set('v', 1, weight * 2.0)\n"
        "full = ws.get_full('v')\nrow = ws.get('v', 1)\n"
        "ws.set('v', 0, weight * 10.0)\nws.set('v', 1, weight * 20.0)\n"
        "for t in range(2, 40):\n    ws.set('v', t, weight * float(t))\n"
        "(full.sum() + row.sum()).backward()\nprint(weight.grad)"
    )
    try:
        (full.sum() + row.sum()).backward()
        problem = None
    except RuntimeError as exc:
        problem = f"backward() raised {type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-10",
        f"backward through get_full/get results read before later set() calls: {problem}",
        repro,
    )
    # d/dw of sum(1*w) + sum(2*w) + sum(2*w) = 5 per element
    expect_equal_tensors(
        weight.grad,
        torch.full((3,), 5.0),
        "WS-10",
        "(full.sum() + row.sum()).backward() with full = [w, 2w] and row = 2w read before "
        "the later writes: weight.grad should be 5 everywhere",
        repro,
    )


@clause("WS-11")
@given(
    old_t=st.integers(1, 8),
    new_t=st.integers(1, 8),
    via_set=st.booleans(),
)
def test_set_full_replaces_whole_variable(impl: Any, old_t: int, new_t: int, via_set: bool) -> None:
    ws = impl.Workspace()
    old = torch.arange(old_t * 2).reshape(old_t, 2)
    if via_set:
        for t in range(old_t):
            ws.set("x", t, old[t])
    else:
        ws.set_full("x", old)
    new = 100 + torch.arange(new_t * 2).reshape(new_t, 2)
    ws.set_full("x", new)
    writes = (
        f"for t in range({old_t}):\n    ws.set('x', t, old[t])"
        if via_set
        else "ws.set_full('x', old)"
    )
    repro = (
        "import torch\nws = impl.Workspace()\n"
        f"old = torch.arange({old_t * 2}).reshape({old_t}, 2)\n"
        f"{writes}\nws.set_full('x', 100 + torch.arange({new_t * 2}).reshape({new_t}, 2))\n"
        "print(ws.time_size(), ws.get_full('x'))"
    )
    expect_equal_tensors(
        ws.get_full("x"),
        new,
        "WS-11",
        f"'x' of time size {old_t} written with {'set' if via_set else 'set_full'}, then "
        f"set_full('x', value of time size {new_t}): get_full must equal the new value",
        repro,
    )
    expect(
        ws.time_size() == new_t,
        "WS-11",
        f"after set_full of time size {new_t} over {old_t}: time_size() = {ws.time_size()}",
        repro,
    )


@clause("WS-12", "WS-19")
def test_keys_variables_contains_and_clear(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("a", 0, torch.zeros(2))
    ws.set("env/b", 1, torch.zeros(2))
    ws.set_full("c", torch.zeros(3, 2))
    repro = (
        "import torch\nws = impl.Workspace()\nws.set('a', 0, torch.zeros(2))\n"
        "ws.set('env/b', 1, torch.zeros(2))\nws.set_full('c', torch.zeros(3, 2))\n"
    )

    def check(expected: set[str], step: str) -> None:
        __tracebackhide__ = True
        code = repro + step + "\nprint(list(ws.keys()), list(ws.variables.keys()))"
        keys = set(ws.keys())
        expect(keys == expected, "WS-12", f"{step or 'writes'}: keys() = {keys}", code)
        variables = set(ws.variables.keys())
        expect(
            variables == expected,
            "WS-12",
            f"{step or 'writes'}: variables.keys() = {variables}, expected {expected}",
            code,
        )
        for name in ("a", "env/b", "c", "zz"):
            try:
                contained: object = name in ws
            except Exception as exc:  # e.g. no __contains__: iteration by index fails
                contained = f"an error ({type(exc).__name__}: {exc})"
            expect(
                contained is (name in expected),
                "WS-12",
                f"{step or 'writes'}: {name!r} in ws gave {contained}, expected {name in expected}",
                code,
            )

    check({"a", "env/b", "c"}, "")
    ws.clear("env/b")
    check({"a", "c"}, "ws.clear('env/b')")
    ws.clear()
    check(set(), "ws.clear('env/b')\nws.clear()")
    expect(
        ws.time_size() == 0 and ws.batch_size() == 0,
        "WS-19",
        f"after clear(): time_size() = {ws.time_size()}, batch_size() = {ws.batch_size()}, "
        "expected 0 and 0 (empty as in WS-1)",
        repro + "ws.clear()\nprint(ws.time_size(), ws.batch_size())",
    )


@clause("WS-13")
def test_time_size_and_batch_size(impl: Any) -> None:
    ws = impl.Workspace()
    ws.set("a", 3, torch.zeros(5, 2))
    ws.set_full("b", torch.zeros(4, 5))
    repro = (
        "import torch\nws = impl.Workspace()\nws.set('a', 3, torch.zeros(5, 2))\n"
        "ws.set_full('b', torch.zeros(4, 5))\n"
    )
    expect(
        ws.time_size() == 4 and ws.batch_size() == 5,
        "WS-13",
        f"two variables of T=4, B=5: time_size() = {ws.time_size()}, "
        f"batch_size() = {ws.batch_size()}",
        repro + "print(ws.time_size(), ws.batch_size())",
    )
    ws.set("a", 6, torch.zeros(5, 2))
    expect_raises(
        ValueError,
        "WS-13",
        "time_size() with 'a' of T=7 and 'b' of T=4",
        ws.time_size,
        repro + "ws.set('a', 6, torch.zeros(5, 2))\nws.time_size()",
    )


@clause("WS-14")
def test_zero_grad_detaches_and_keeps_values(impl: Any) -> None:
    weight = torch.tensor([1.0, 2.0], requires_grad=True)
    ws = impl.Workspace()
    for t in range(3):
        ws.set("v", t, weight * (t + 1))
    ws.set_full("w", torch.stack([weight, weight]) * 3)
    ws.set("plain", 0, torch.tensor([7, 8]))
    ws.zero_grad()
    repro = (
        "import torch\nweight = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "ws = impl.Workspace()\nfor t in range(3):\n    ws.set('v', t, weight * (t + 1))\n"
        "ws.set_full('w', torch.stack([weight, weight]) * 3)\nws.zero_grad()\n"
        "print(ws.get_full('v'), ws.get_full('w'))"
    )
    expected = {
        "v": torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]),
        "w": torch.tensor([[3.0, 6.0], [3.0, 6.0]]),
        "plain": torch.tensor([[7, 8]]),
    }
    for name, want in expected.items():
        for how, got in (("get_full", ws.get_full(name)), ("get", ws.get(name, 0))):
            expect(
                not got.requires_grad and got.grad_fn is None,
                "WS-14",
                f"after zero_grad(), {how}({name!r}) has requires_grad={got.requires_grad}, "
                f"grad_fn={got.grad_fn}",
                repro,
            )
        expect_equal_tensors(
            ws.get_full(name), want, "WS-14", f"zero_grad() changed the values of {name!r}", repro
        )


@st.composite
def _copy_cases(draw: st.DrawFn) -> tuple[int, dict[str, torch.Tensor], dict[str, str]]:
    time_size = draw(st.integers(1, 8), label="T")
    batch = draw(st.integers(1, 3), label="B")
    names = draw(
        st.lists(st.sampled_from(["a", "b", "env/c"]), min_size=1, max_size=3, unique=True)
    )
    values, sources = {}, {}
    for name in names:
        shape = (time_size, batch, *draw(trailing_shapes(max_dims=1), label=f"{name} S"))
        dtype = draw(dtypes(), label=f"{name} dtype")
        seed = draw(st.integers(0, 2**16), label=f"{name} seed")
        values[name] = make_values(shape, dtype, seed)
        sources[name] = f"make_values({shape}, {dtype}, seed={seed})"
    return time_size, values, sources


@clause("WS-15", "WS-16")
@given(case=_copy_cases(), data=st.data())
def test_copy_n_last_steps_every_n(
    impl: Any, case: tuple[int, dict[str, torch.Tensor], dict[str, str]], data: st.DataObject
) -> None:
    time_size, values, sources = case
    subset = data.draw(
        st.lists(st.sampled_from(sorted(values)), min_size=1, unique=True), label="var_names"
    )
    for var_names in (None, subset):
        for n in range(time_size + 1):
            ws = impl.Workspace()
            model = WorkspaceModel()
            lines = [f"{IMPORTS}ws = impl.Workspace()"]
            for name, value in values.items():
                for t in range(time_size):  # row by row, as agents write
                    ws.set(name, t, value[t])
                model.set_full(name, value)
                lines.append(
                    f"for t, row in enumerate({sources[name]}):\n    ws.set({name!r}, t, row)"
                )
            ws.copy_n_last_steps(n, var_names=var_names)
            model.copy_n_last_steps(n, var_names)
            lines.append(f"ws.copy_n_last_steps({n}, var_names={var_names!r})")
            for name in values:
                clause_id = "WS-15" if var_names is None or name in var_names else "WS-16"
                expect_equal_tensors(
                    ws.get_full(name),
                    model.get_full(name),
                    clause_id,
                    f"copy_n_last_steps({n}, var_names={var_names!r}) with T={time_size}: "
                    f"{name!r} differs from the model (rows T-n..T-1 copied to 0..n-1 for the "
                    "selected variables only, nothing else changed)",
                    "\n".join([*lines, f"print(ws.get_full({name!r}))"]),
                )
            expect(
                ws.time_size() == time_size,
                "WS-15",
                f"copy_n_last_steps({n}, var_names={var_names!r}) changed the time size from "
                f"{time_size} to {ws.time_size()}",
                "\n".join([*lines, "print(ws.time_size())"]),
            )


@clause("WS-17")
@given(time_size=st.integers(1, 6), excess=st.integers(1, 3), named=st.booleans())
def test_copy_n_last_steps_rejects_bad_n_and_names(
    impl: Any, time_size: int, excess: int, named: bool
) -> None:
    ws = impl.Workspace()
    for t in range(time_size):
        ws.set("a", t, torch.tensor([t, 10 + t]))
        ws.set("b", t, torch.tensor([100.0 + t, 200.0 + t]))
    before = observe_workspace(ws)
    repro = (
        "import torch\nws = impl.Workspace()\n"
        f"for t in range({time_size}):\n    ws.set('a', t, torch.tensor([t, 10 + t]))\n"
        "    ws.set('b', t, torch.tensor([100.0 + t, 200.0 + t]))\n"
    )
    var_names = ["a"] if named else None
    calls: list[tuple[type[BaseException], int, list[str] | None]] = [
        (ValueError, time_size + excess, var_names),
        (ValueError, -excess, var_names),
        (KeyError, 1, ["a", "zz"]),
        (KeyError, 0, ["zz"]),
    ]
    for exc_type, n, names in calls:
        call = f"ws.copy_n_last_steps({n}, var_names={names!r})"
        expect_raises(
            exc_type,
            "WS-17",
            f"{call} on variables of time size {time_size}",
            functools.partial(ws.copy_n_last_steps, n, var_names=names),
            repro + call,
        )
        after = observe_workspace(ws)
        expect(
            same_contents(before, after),
            "WS-17",
            f"{call} raised but changed the workspace: before {before}, after {after}",
            repro + call + "\nprint(ws.get_full('a'), ws.get_full('b'))",
        )


@clause("WS-15")
def test_copy_n_last_steps_overlapping_ranges(impl: Any) -> None:
    """n > T/2 with several variables: the sources are read before anything is written."""
    ws = impl.Workspace()
    for t in range(5):
        for offset, name in enumerate(("a", "b", "c")):
            ws.set(name, t, torch.tensor([100 * offset + t]))
    ws.copy_n_last_steps(3)
    repro = (
        "import torch\nws = impl.Workspace()\nfor t in range(5):\n"
        "    for offset, name in enumerate(('a', 'b', 'c')):\n"
        "        ws.set(name, t, torch.tensor([100 * offset + t]))\n"
        "ws.copy_n_last_steps(3)\nprint(ws.get_full('a').flatten())"
    )
    for offset, name in enumerate(("a", "b", "c")):
        want = torch.tensor([[2], [3], [4], [3], [4]]) + 100 * offset
        expect_equal_tensors(
            ws.get_full(name),
            want,
            "WS-15",
            f"copy_n_last_steps(3) on three variables of T=5, {name!r} = "
            f"{[100 * offset + t for t in range(5)]}: rows 2..4 as they were before the call "
            "must land in rows 0..2",
            repro,
        )


def _long_and_short(impl: Any) -> tuple[Any, str]:
    ws = impl.Workspace()
    for t in range(5):
        ws.set("long", t, torch.tensor([t]))
    for t in range(2):
        ws.set("short", t, torch.tensor([10 + t]))
    repro = (
        "import torch\nws = impl.Workspace()\n"
        "for t in range(5):\n    ws.set('long', t, torch.tensor([t]))\n"
        "for t in range(2):\n    ws.set('short', t, torch.tensor([10 + t]))\n"
    )
    return ws, repro


@clause("WS-16")
def test_copy_n_last_steps_empty_selection(impl: Any) -> None:
    ws, repro = _long_and_short(impl)
    before = observe_workspace(ws)
    for n in (0, 1, 2):
        call = f"ws.copy_n_last_steps({n}, var_names=[])"
        ws.copy_n_last_steps(n, var_names=[])
        expect(
            same_contents(before, observe_workspace(ws)),
            "WS-16",
            f"{call} selects no variable and must change nothing",
            repro + call + "\nprint(ws.get_full('long'), ws.get_full('short'))",
        )


@clause("WS-15", "WS-17")
def test_copy_n_last_steps_per_variable_time_size(impl: Any) -> None:
    """The spec's note: copy_n_last_steps works per variable (time sizes may differ)."""
    ws, repro = _long_and_short(impl)
    call = "ws.copy_n_last_steps(2)"
    try:
        ws.copy_n_last_steps(2)
        problem = None
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    expect(
        problem is None,
        "WS-15",
        f"{call} on 'long' (T=5) and 'short' (T=2) must copy per variable, but raised {problem}",
        repro + call,
    )
    expect_equal_tensors(
        ws.get_full("long"),
        torch.tensor([[3], [4], [2], [3], [4]]),
        "WS-15",
        f"{call} on 'long' (T=5) and 'short' (T=2): 'long' rows 3, 4 copied to rows 0, 1",
        repro + call + "\nprint(ws.get_full('long'))",
    )
    expect_equal_tensors(
        ws.get_full("short"),
        torch.tensor([[10], [11]]),
        "WS-15",
        f"{call} on 'long' (T=5) and 'short' (T=2): 'short' (n = T) unchanged",
        repro + call + "\nprint(ws.get_full('short'))",
    )
    before = observe_workspace(ws)
    call = "ws.copy_n_last_steps(3)"
    expect_raises(
        ValueError,
        "WS-17",
        f"{call} with 'short' of time size 2 selected",
        functools.partial(ws.copy_n_last_steps, 3),
        repro + call,
    )
    expect(
        same_contents(before, observe_workspace(ws)),
        "WS-17",
        f"{call} raised but changed a variable (the valid 'long' must not be copied either)",
        repro + call + "\nprint(ws.get_full('long'))",
    )


# -- stateful test: random sequences of writes against the dict-of-lists model ------------

_SCHEMA = {"a": ((), torch.float32), "b": ((2,), torch.int64), "env/c": ((), torch.bool)}
_BATCH = 3


def make_workspace_machine(impl: Any) -> type[RuleBasedStateMachine]:
    """A state machine writing to `impl.Workspace()` and to the model in lockstep."""

    class WorkspaceMachine(RuleBasedStateMachine):
        names = Bundle("names")

        def __init__(self) -> None:
            super().__init__()
            self.ws = impl.Workspace()
            self.model = WorkspaceModel()
            self.log = [f"{IMPORTS}ws = impl.Workspace()"]

        def repro(self, last: str) -> str:
            return "\n".join([*self.log, last])

        @initialize(target=names)
        def first_name(self) -> str:
            return "a"

        @rule(target=names, name=st.sampled_from(sorted(_SCHEMA)))
        def another_name(self, name: str) -> str:
            return name

        @rule(name=names, t=st.integers(0, 6), seed=st.integers(0, 2**16))
        def set_row(self, name: str, t: int, seed: int) -> None:
            item, dtype = _SCHEMA[name]
            value = make_values((_BATCH, *item), dtype, seed)
            self.ws.set(name, t, value)
            self.model.set(name, t, value)
            self.log.append(
                f"ws.set({name!r}, {t}, make_values({(_BATCH, *item)}, {dtype}, seed={seed}))"
            )

        @rule(name=names, time_size=st.integers(1, 6), seed=st.integers(0, 2**16))
        def set_full(self, name: str, time_size: int, seed: int) -> None:
            item, dtype = _SCHEMA[name]
            shape = (time_size, _BATCH, *item)
            value = make_values(shape, dtype, seed)
            self.ws.set_full(name, value)
            self.model.set_full(name, value)
            self.log.append(f"ws.set_full({name!r}, make_values({shape}, {dtype}, seed={seed}))")

        @precondition(lambda self: bool(self.model.rows))
        @rule(data=st.data())
        def copy_n_last_steps(self, data: st.DataObject) -> None:
            # selections of one common time size only: per-variable sizes and an empty
            # var_names have their own tests (test_copy_n_last_steps_edge_selections)
            present = sorted(self.model.rows)
            var_names = data.draw(
                st.one_of(st.none(), st.lists(st.sampled_from(present), min_size=1, unique=True)),
                label="var_names",
            )
            selected = present if var_names is None else var_names
            sizes = {self.model.time_size(n) for n in selected}
            if len(sizes) != 1:
                return
            n = data.draw(st.integers(0, sizes.pop()), label="n")
            self.ws.copy_n_last_steps(n, var_names=var_names)
            self.model.copy_n_last_steps(n, var_names)
            self.log.append(f"ws.copy_n_last_steps({n}, var_names={var_names!r})")

        @precondition(lambda self: bool(self.model.rows))
        @rule(data=st.data())
        def clear_one(self, data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(sorted(self.model.rows)), label="clear name")
            self.ws.clear(name)
            self.model.clear(name)
            self.log.append(f"ws.clear({name!r})")

        @rule()
        def clear_all(self) -> None:
            self.ws.clear()
            self.model.clear()
            self.log.append("ws.clear()")

        @invariant()
        def contents_match_model(self) -> None:
            keys = sorted(self.ws.keys())
            expect(
                keys == sorted(self.model.rows),
                "WS-12",
                f"keys() = {keys}, expected {sorted(self.model.rows)}",
                self.repro("print(list(ws.keys()))"),
            )
            for name in self.model.rows:
                expect_equal_tensors(
                    self.ws.get_full(name),
                    self.model.get_full(name),
                    "WS-6",
                    f"get_full({name!r}) after the calls of the reproducer differs from the "
                    "model (rows as last written, zero-filled gaps, copies per WS-15)",
                    self.repro(f"print(ws.get_full({name!r}))"),
                )
            if self.model.rows:  # the reads count: an implementation may cache what it returns
                self.log.append(f"for name in {sorted(self.model.rows)!r}: ws.get_full(name)")

        @invariant()
        def sizes_match_model(self) -> None:
            sizes = {self.model.time_size(n) for n in self.model.rows}
            if len(sizes) > 1:
                expect_raises(
                    ValueError,
                    "WS-13",
                    f"time_size() with per-variable time sizes "
                    f"{ {n: self.model.time_size(n) for n in self.model.rows} }",
                    self.ws.time_size,
                    self.repro("ws.time_size()"),
                )
                return
            want_t = sizes.pop() if sizes else 0
            want_b = _BATCH if self.model.rows else 0
            got = (self.ws.time_size(), self.ws.batch_size())
            expect(
                got == (want_t, want_b),
                "WS-13" if self.model.rows else "WS-1",
                f"(time_size(), batch_size()) = {got}, expected {(want_t, want_b)}",
                self.repro("print(ws.time_size(), ws.batch_size())"),
            )

    return WorkspaceMachine


@clause("WS-1", "WS-2", "WS-3", "WS-6", "WS-11", "WS-12", "WS-13", "WS-15", "WS-16", "WS-19")
def test_workspace_state_machine(impl: Any) -> None:
    run_state_machine_as_test(make_workspace_machine(impl))
