"""ConformanceFailure: kept free of torch and hypothesis so the pytest plugin loads cheaply."""

from __future__ import annotations

from bbrl_conformance._clauses import lookup

# The module under test, named in every reproducer so that it runs as written (set by the
# plugin once the implementation is loaded).
_implementation_name: str | None = None


def set_implementation_name(name: str | None) -> None:
    """Name the module that reproducers import as ``impl``."""
    global _implementation_name
    _implementation_name = name


class ConformanceFailure(AssertionError):
    """A clause of the spec is violated by the implementation under test."""

    def __init__(self, clause_id: str, what: str, repro: str | None = None) -> None:
        self.clause_id = clause_id
        self.what = what
        self.repro = repro
        super().__init__(format_failure(clause_id, what, repro))


def format_failure(clause_id: str, what: str, repro: str | None = None) -> str:
    """``<ID> (<LEVEL>): <sentence>``, the indented ``what``, then the reproducer if any."""
    body = "\n".join("  " + line for line in what.splitlines()) or "  (no details)"
    text = f"{lookup(clause_id).headline()}\n{body}"
    if repro:
        header = ""
        if _implementation_name is not None and "impl" in repro:
            header = f"import importlib\nimpl = importlib.import_module({_implementation_name!r})\n"
        text += f"\n\nReproducer:\n{header}{repro.rstrip()}"
    return text
