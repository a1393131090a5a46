"""ConformanceFailure: kept free of torch and hypothesis so the pytest plugin loads cheaply."""

from __future__ import annotations

import ast
import textwrap

from bbrl_conformance._clauses import lookup

# The module under test, named in every reproducer so that it runs as written (set by the
# plugin once the implementation is loaded).
_implementation_name: str | None = None


def set_implementation_name(name: str | None) -> None:
    """Name the module that reproducers import as ``impl``."""
    global _implementation_name
    _implementation_name = name


class ConformanceFailure(AssertionError):
    """A clause of the spec is violated by the implementation under test.

    ``repro`` is the body of a reproducer using ``impl``; ``raises`` names the exception types
    its last statement must raise (``expect_raises``), so that the reproducer checks it.
    """

    def __init__(
        self,
        clause_id: str,
        what: str,
        repro: str | None = None,
        raises: tuple[str, ...] | None = None,
    ) -> None:
        self.clause_id = clause_id
        self.what = what
        self.repro = repro
        self.raises = raises
        #: the standalone script printed after "Reproducer:" (None without a reproducer)
        self.reproducer = make_reproducer(repro, raises) if repro else None
        super().__init__(format_failure(clause_id, what, repro, raises))


def _is_print(statement: ast.stmt) -> bool:
    value = getattr(statement, "value", None)
    return (
        isinstance(statement, ast.Expr)
        and isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "print"
    )


def _checked_statement(statements: list[ast.stmt], lines: list[str]) -> ast.stmt | None:
    """The statement of ``statements`` that must raise: the last one before any trailing
    ``print``, looked for inside a final ``with`` block (a reproducer that works in a temporary
    directory calls there, so that the directory is cleaned up whatever happens).

    None when that statement is not an expression or an assignment (then it cannot be the call
    the failure is about) or does not start its line.
    """
    statements = list(statements)
    while statements and _is_print(statements[-1]):
        statements.pop()
    if not statements:
        return None
    last = statements[-1]
    if lines[last.lineno - 1][: last.col_offset].strip():
        return None  # shares its line with what precedes it (``with x: call``, ``a; call``)
    if isinstance(last, ast.With):
        return _checked_statement(last.body, lines)
    return last if isinstance(last, ast.Expr | ast.Assign) else None


def _wrap_last_call(body: str, raises: tuple[str, ...]) -> str:
    """``body`` with its last statement before any trailing ``print`` (inside a final ``with``
    block, if any) checked to raise one of ``raises`` (the prints, showing the state after the
    failed call, stay after the check).

    Left as it is when that statement is not an expression or an assignment (then it cannot be
    the call the failure is about), or the text does not parse.
    """
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return body
    lines = body.rstrip().splitlines()
    last = _checked_statement(tree.body, lines)
    if last is None:
        return body
    assert last.end_lineno is not None
    head, call = lines[: last.lineno - 1], lines[last.lineno - 1 : last.end_lineno]
    tail = lines[last.end_lineno :]
    names = ", ".join(raises)
    caught = names if len(raises) == 1 else f"({names})"
    wanted = " or ".join(raises)
    indent = " " * last.col_offset
    check = [
        f"{indent}try:",
        textwrap.indent("\n".join(call), "    "),
        f"{indent}except {caught} as exc:",
        f"{indent}    print('raised as required:', type(exc).__name__, exc)",
        f"{indent}else:",
        f"{indent}    raise AssertionError({f'expected {wanted}, but nothing was raised'!r})",
    ]
    return "\n".join([*head, *check, *tail])


def make_reproducer(repro: str, raises: tuple[str, ...] | None = None) -> str:
    """The standalone script: import the implementation as ``impl``, then ``repro``."""
    body = repro.rstrip()
    if raises:
        body = _wrap_last_call(body, raises)
    header = ""
    if _implementation_name is not None and "impl" in body:
        header = f"import {_implementation_name} as impl\n"
    return header + body


def format_failure(
    clause_id: str, what: str, repro: str | None = None, raises: tuple[str, ...] | None = None
) -> str:
    """``<ID> (<LEVEL>): <sentence>``, the indented ``what``, then the reproducer if any."""
    body = "\n".join("  " + line for line in what.splitlines()) or "  (no details)"
    text = f"{lookup(clause_id).headline()}\n{body}"
    if repro:
        text += f"\n\nReproducer:\n{make_reproducer(repro, raises)}"
    return text
