"""Triage: one bug reads as one clause. Failures are grouped by the clause they name; a failing
clause built on another failing clause (``BUILT_ON``) is listed under it; each root gets the
reproducer that prints or asserts, the shortest first. Also the reproducer's form: a failure of
``expect_raises`` gives a script that checks the exception itself."""

from __future__ import annotations

import contextlib
import io

import pytest
from bbrl_conformance import _failure
from bbrl_conformance._clauses import registry
from bbrl_conformance._report import FailureInfo, TestRecord
from bbrl_conformance._triage import BUILT_ON, summary_lines, triage


def _failed(test: str, *failures: tuple[str | None, str | None]) -> TestRecord:
    record = TestRecord(test, [c for c, _ in failures if c])
    record.update("failed", failures[0][0])
    record.failures = [FailureInfo(c, f"{c}: message", r) for c, r in failures]
    return record


def test_built_on_names_only_registry_clauses() -> None:
    known = set(registry())
    for clause_id, bases in BUILT_ON.items():
        assert clause_id in known, clause_id
        assert set(bases) <= known, (clause_id, set(bases) - known)


def test_a_get_transitions_bug_reads_as_one_clause() -> None:
    # What tr_drop_second fails: the pair rule, the epoch protocol built on it, gradients.
    tests = [
        _failed("t.py::hand", ("TR-3", "print(ws.get_transitions()['x'])")),
        _failed("t.py::model", ("TR-3", "x = 1\nprint({k: out[k].shape for k in out})")),
        _failed("t.py::shape", ("TR-1", "print(out['x'].shape)")),
        *[_failed(f"e.py::loop{i}", ("TR-10", "print(tr)")) for i in range(3)],
        _failed("t.py::grad", ("TR-8", "print(weight.grad)")),
        _failed("w.py::other", ("WS-4", "ws.set('x', 0, v)")),
    ]
    tests.append(TestRecord("p.py::passing", ["TR-3"], outcome="passed"))
    result = triage(tests)
    # roots in registry (spec file) order
    assert [r.clause for r in result.roots] == ["TR-3", "WS-4"]
    tr3 = result.roots[0]
    assert tr3.tests == ["t.py::hand", "t.py::model"]
    assert tr3.cascades == {
        "TR-1": ["t.py::shape"],
        "TR-8": ["t.py::grad"],
        "TR-10": ["e.py::loop0", "e.py::loop1", "e.py::loop2"],
    }
    # the shortest reproducer that prints something
    assert tr3.reproducer == "print(ws.get_transitions()['x'])"
    assert tr3.reproducer_test == "t.py::hand"
    # a reproducer that neither prints nor asserts is still offered when it is the only one
    assert result.roots[1].reproducer == "ws.set('x', 0, v)"
    text = "\n".join(summary_lines(result, "my_impl"))
    assert "[1] TR-3 (MUST)" in text
    assert "TR-1 (1 test), TR-8 (1 test), TR-10 (3 tests)" in text
    assert "rerun: python -m bbrl_conformance --impl my_impl --clauses TR-3" in text
    # printed clean: the script's lines start at the margin
    assert "\nprint(ws.get_transitions()['x'])\n" in text


def test_a_cascade_without_its_root_is_a_root() -> None:
    result = triage([_failed("e.py::loop", ("TR-10", "print(1)"))])
    assert [r.clause for r in result.roots] == ["TR-10"] and result.roots[0].cascades == {}


def test_known_deviations_and_unexpected_exceptions() -> None:
    deviation = _failed("t.py::listed", ("TR-3", "print(1)"))
    deviation.outcome = "xfailed"
    crash = _failed("t.py::crash", (None, None))
    result = triage([deviation, crash])
    assert result.roots == [] and result.unexpected == ["t.py::crash"]
    assert "raised an unexpected exception" in "\n".join(summary_lines(result, None))


def test_a_listed_deviation_that_passes_is_not_called_an_exception() -> None:
    # A strict xfail that passes fails the run with no clause named: say why, not "exception".
    stale = _failed("t.py::fixed", (None, None))
    stale.deviation = "B4: fixed since"
    crash = _failed("t.py::crash", (None, None))
    result = triage([stale, crash])
    assert result.now_passing == ["t.py::fixed"] and result.unexpected == ["t.py::crash"]
    text = "\n".join(summary_lines(result, None))
    assert "1 test(s) listed in the deviations ledger now pass" in text and "t.py::fixed" in text
    assert "t.py::fixed" not in text.split("listed in the deviations ledger")[0]


def test_clauses_built_on_each_other_both_stay_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILT_ON, "WS-1", ("WS-2",))
    monkeypatch.setitem(BUILT_ON, "WS-2", ("WS-1",))
    result = triage([_failed("a.py::a", ("WS-1", None)), _failed("b.py::b", ("WS-2", None))])
    assert [r.clause for r in result.roots] == ["WS-1", "WS-2"]


def _run(script: str, namespace: dict[str, object]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(script, namespace)
    return out.getvalue()


def test_expect_raises_reproducer_checks_the_exception() -> None:
    _failure.set_implementation_name("collections")
    try:
        script = _failure.make_reproducer("d = impl.OrderedDict()\nd['missing']", ("KeyError",))
    finally:
        _failure.set_implementation_name(None)
    assert script.startswith("import collections as impl\n")
    # raises as required: says so
    assert "raised as required: KeyError" in _run(script, {})
    # nothing raised: the reproducer fails, naming what was expected
    quiet = _failure.make_reproducer("d = {}\nd.get('missing')", ("KeyError", "IndexError"))
    with pytest.raises(AssertionError, match="expected KeyError or IndexError"):
        _run(quiet, {})
    # another exception: it propagates
    other = _failure.make_reproducer("n = int('x')", ("KeyError",))
    with pytest.raises(ValueError):
        _run(other, {})


def test_expect_raises_reproducer_keeps_its_trailing_prints() -> None:
    script = _failure.make_reproducer("d = {}\nd['x']\nprint(d)", ("KeyError",))
    assert script.endswith("nothing was raised')\nprint(d)")
    assert _run(script, {}) == "raised as required: KeyError 'x'\n{}\n"


def test_expect_raises_reproducer_checks_the_call_inside_a_final_with_block() -> None:
    # a reproducer working in a temporary directory calls inside the with block, so that the
    # directory is cleaned up whether or not the call raises
    body = (
        "import tempfile\nwith tempfile.TemporaryDirectory() as tmp:\n    d = {}\n"
        "    d[tmp]\n    print(len(d))\nprint('after')"
    )
    script = _failure.make_reproducer(body, ("KeyError",))
    out = _run(script, {})
    assert out.startswith("raised as required: KeyError") and out.endswith("\n0\nafter\n")
    quiet = _failure.make_reproducer(body.replace("d[tmp]", "d.get(tmp)"), ("KeyError",))
    with pytest.raises(AssertionError, match="expected KeyError, but nothing was raised"):
        _run(quiet, {})
    # the call on the with line itself is not split from it
    inline = "import contextlib\nwith contextlib.nullcontext(): {}['x']"
    assert _failure.make_reproducer(inline, ("KeyError",)) == inline


def test_reproducer_left_alone_when_its_last_line_is_not_the_call() -> None:
    for body in ("print(1)", "x = {}\nfor k in x:\n    pass", "x = {}\nx[0", ""):
        assert _failure.make_reproducer(body, ("KeyError",)) == body.rstrip()
