"""pytest plugin of the conformance suite (registered through the pytest11 entry point).

It is installed globally, so it stays inert unless the session collects the suite's own tests
(``bbrl_conformance/tests``): only then does it require an implementation, apply the known
deviations, and print and write the per-clause report. Options and the ``clause`` marker are
always registered (harmless). Hypothesis profiles and torch's RNG registration are set up by
``bbrl_conformance/tests/conftest.py``, which only loads when the suite is collected.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bbrl_conformance import _report, _triage
from bbrl_conformance._clauses import clause_ids_of, registry
from bbrl_conformance._deviations import Deviation, DeviationsError, load_deviations
from bbrl_conformance._failure import ConformanceFailure, set_implementation_name
from bbrl_conformance._impl import (
    AREAS,
    ENV_VAR,
    NOT_CLAIMED,
    ImplementationError,
    LoadedImplementation,
    areas_of_clause,
    chosen_module_name,
    load_implementation,
    parse_areas,
)
from bbrl_conformance._profiles import PROFILES

SUITE_DIR = Path(__file__).resolve().parent / "tests"


@dataclass
class SuiteState:
    """What the plugin learns about a session that collects the suite."""

    active: bool = False
    impl: LoadedImplementation | None = None
    deviations: list[Deviation] = field(default_factory=list)
    deviation_files: list[str] = field(default_factory=list)
    #: problems with the ledger (stale entries): each one fails the run
    ledger_errors: list[str] = field(default_factory=list)
    tests: dict[str, _report.TestRecord] = field(default_factory=dict)
    complete_collection: bool = False
    deselected: int = 0

    def to_dict(self) -> dict[str, Any]:
        """What a pytest-xdist worker sends to the controller (JSON-able)."""
        return {
            "active": self.active,
            "impl": self.impl.module_name if self.impl else None,
            "areas": list(self.impl.areas) if self.impl else None,
            "deviation_files": self.deviation_files,
            "ledger_errors": self.ledger_errors,
            "tests": [t.to_dict() for t in self.tests.values()],
            "complete_collection": self.complete_collection,
            "deselected": self.deselected,
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add one worker's results: the report is built from every worker's tests."""
        if not data["active"]:
            return
        first = not self.active
        self.active = True
        if self.impl is None and data["impl"] is not None:
            self.impl = load_implementation(data["impl"], data["areas"])
            set_implementation_name(data["impl"])
        for name in data["deviation_files"]:
            if name not in self.deviation_files:
                self.deviation_files.append(name)
        for error in data["ledger_errors"]:
            if error not in self.ledger_errors:
                self.ledger_errors.append(error)
        for raw in data["tests"]:
            record = _report.TestRecord.from_dict(raw)
            if record.id in self.tests:
                self.tests[record.id].merge(record)
            else:
                self.tests[record.id] = record
        # Every worker collects the whole suite and deselects alike.
        self.complete_collection = data["complete_collection"] and (
            first or self.complete_collection
        )
        self.deselected = max(self.deselected, data["deselected"])


STATE_KEY = pytest.StashKey[SuiteState]()


def _is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (it sends its results to the controller)."""
    return hasattr(config, "workerinput")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bbrl_conformance", "BBRL conformance suite")
    group.addoption(
        "--impl",
        default=None,
        help=f"module implementing the BBRL core to test (or set {ENV_VAR})",
    )
    group.addoption(
        "--profile",
        default=None,
        choices=PROFILES,
        help="Hypothesis profile of the suite (default: HYPOTHESIS_PROFILE, else ci)",
    )
    group.addoption(
        "--max-examples",
        type=int,
        default=None,
        help="override the profile's Hypothesis max_examples",
    )
    group.addoption(
        "--deviations",
        action="append",
        default=None,
        help="known-deviations TOML file (path or shipped name, e.g. 'bbrl'); repeatable; "
        "default: the one the implementation module names, if any",
    )
    group.addoption(
        "--no-deviations",
        action="store_true",
        default=False,
        help="ignore every known-deviations file (also the implementation's default)",
    )
    group.addoption(
        "--areas",
        default=None,
        metavar="AREAS",
        help=f"comma-separated areas the implementation claims, of {','.join(AREAS)} (default: "
        "its CONFORMANCE_AREAS, else all): only their tests run, only their names are required",
    )
    group.addoption(
        "--clauses",
        default=None,
        metavar="IDS",
        help="run only the suite's tests citing one of these comma-separated clause IDs",
    )
    group.addoption(
        "--conformance-report",
        default=None,
        metavar="DIR",
        help="write report.json and report.md of the per-clause results into DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clause(*ids): the spec clause IDs a conformance test covers"
    )
    config.stash[STATE_KEY] = SuiteState()


def pytest_report_header(config: pytest.Config) -> list[str]:
    name = chosen_module_name(config.getoption("impl"))
    if name is None:
        return []
    lines = []
    try:
        impl = load_implementation(name, _areas_option(config))
    except (ImplementationError, pytest.UsageError) as exc:
        lines.append(f"bbrl_conformance: {exc}")
    else:
        lines.append(f"bbrl_conformance: implementation {impl.name} {impl.version} ({name})")
        lines.append(
            f"bbrl_conformance: areas claimed: {', '.join(impl.areas)}"
            + (f"; not claimed: {', '.join(impl.unclaimed)}" if impl.unclaimed else "")
        )
        if impl.missing:
            lines.append(f"bbrl_conformance: missing names: {', '.join(impl.missing)}")
    bbrl_vars = sorted(k for k in os.environ if k.startswith(("BBRL_", "HYPOTHESIS_")))
    lines.extend(f"bbrl_conformance: {k}={os.environ[k]}" for k in bbrl_vars)
    return lines


def _areas_option(config: pytest.Config) -> tuple[str, ...] | None:
    value = config.getoption("areas")
    if value is None:
        return None
    try:
        return parse_areas(value)
    except ValueError as exc:
        raise pytest.UsageError(f"bbrl_conformance: --{exc}") from exc


def is_suite_item(item: pytest.Item) -> bool:
    """Whether ``item`` is one of the suite's shipped tests."""
    return Path(item.path).resolve().is_relative_to(SUITE_DIR)


def stable_test_id(item: pytest.Item) -> str:
    """``test_module.py::test_name[params]``: independent of rootdir and invocation."""
    parts = item.nodeid.split("::")
    return "::".join([Path(item.path).name, *parts[1:]])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    # tryfirst: runs before -k/-m deselection, so deviations are checked against every test.
    state = config.stash[STATE_KEY]
    suite_items = [item for item in items if is_suite_item(item)]
    if not suite_items:
        return
    state.active = True
    name = chosen_module_name(config.getoption("impl"))
    if name is None:
        raise pytest.UsageError(
            "bbrl_conformance: no implementation chosen: pass --impl MODULE "
            f"(e.g. --impl bbrl_reference) or set {ENV_VAR}=MODULE"
        )
    try:
        state.impl = load_implementation(name, _areas_option(config))
        state.impl.check_required()
    except ImplementationError as exc:
        raise pytest.UsageError(f"bbrl_conformance: {exc}") from exc
    set_implementation_name(name)
    _load_ledger(config, state)

    collected_modules = {Path(item.path).resolve() for item in suite_items}
    all_modules = {p.resolve() for p in SUITE_DIR.glob("test_*.py")}
    state.complete_collection = all_modules <= collected_modules
    for item in suite_items:
        test_id = stable_test_id(item)
        clause_ids = clause_ids_of(item)
        state.tests[test_id] = _report.TestRecord(test_id, clause_ids)
        for deviation in state.deviations:
            if deviation.matches(test_id, clause_ids):
                reason = deviation.reason + (f" ({deviation.issue})" if deviation.issue else "")
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"known deviation: {reason}"))
                state.tests[test_id].deviation = reason
    _check_stale(state, suite_items, collected_modules)
    _select_areas(config, state, items)
    _select_clauses(config, items)


def _select_areas(config: pytest.Config, state: SuiteState, items: list[pytest.Item]) -> None:
    """Deselect the tests citing a clause of an area the implementation does not claim."""
    assert state.impl is not None
    unclaimed = set(state.impl.unclaimed)
    if not unclaimed:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        cited = clause_ids_of(item) if is_suite_item(item) else []
        if any(set(areas_of_clause(c)) & unclaimed for c in cited):
            state.tests[stable_test_id(item)].outcome = "not-claimed"
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _select_clauses(config: pytest.Config, items: list[pytest.Item]) -> None:
    option = config.getoption("clauses")
    if not option:
        return
    wanted = {c.strip() for c in option.split(",") if c.strip()}
    unknown = sorted(wanted - set(registry()))
    if unknown:
        raise pytest.UsageError(f"bbrl_conformance: --clauses: unknown clause IDs {unknown}")
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        cited = set(clause_ids_of(item)) if is_suite_item(item) else wanted
        (keep if cited & wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _load_ledger(config: pytest.Config, state: SuiteState) -> None:
    if config.getoption("no_deviations"):
        return
    assert state.impl is not None
    files = config.getoption("deviations") or (
        [state.impl.default_deviations] if state.impl.default_deviations else []
    )
    for name in files:
        try:
            state.deviations.extend(load_deviations(name))
        except DeviationsError as exc:
            raise pytest.UsageError(f"bbrl_conformance: {exc}") from exc
        state.deviation_files.append(name)


def _check_stale(
    state: SuiteState, suite_items: list[pytest.Item], collected_modules: set[Path]
) -> None:
    known = registry()
    cited = {cid for item in suite_items for cid in clause_ids_of(item)}
    collected_names = {p.name for p in collected_modules}
    for deviation in state.deviations:
        where = f"{deviation.source}: {deviation.target}"
        if deviation.clause is not None:
            if deviation.clause not in known:
                state.ledger_errors.append(f"{where}: no such clause in the registry")
            elif state.complete_collection and deviation.clause not in cited:
                state.ledger_errors.append(f"{where}: no test cites this clause")
            continue
        assert deviation.test is not None
        module = deviation.test.split("::")[0]
        if module not in collected_names and not state.complete_collection:
            continue  # that module is not part of this (partial) run
        if not any(deviation.matches(t, []) for t in state.tests):
            state.ledger_errors.append(f"{where}: no such test in the suite")


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        state = items[0].config.stash[STATE_KEY]
        for item in items:
            if is_suite_item(item):
                record = state.tests.get(stable_test_id(item))
                # Tests of unclaimed areas do not make the run partial: they are not claimed.
                if record is None or record.outcome != "not-claimed":
                    state.deselected += 1


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside ``exc`` (itself, or the leaves of an exception group)."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _conformance_failure(exc: BaseException | None) -> ConformanceFailure | None:
    if exc is None:
        return None
    return next((e for e in _leaves(exc) if isinstance(e, ConformanceFailure)), None)


def rerun_command(item: pytest.Item) -> str:
    """The command that reruns just this test against the same implementation."""
    state = item.config.stash[STATE_KEY]
    impl = state.impl.module_name if state.impl else "MODULE"
    parts = ["python", "-m", "bbrl_conformance", "--impl", impl]
    if state.impl is not None and state.impl.unclaimed:
        parts += ["--areas", ",".join(state.impl.areas)]
    profile = item.config.getoption("profile")
    if profile:
        parts += ["--profile", profile]
    module = Path(item.path).stem
    target = "::".join([f"bbrl_conformance.tests.{module}", *item.nodeid.split("::")[1:]])
    return " ".join(shlex.quote(p) for p in [*parts, "--", target])


#: Hypothesis' advice on replaying a failure names decorators a suite user cannot add.
_HYPOTHESIS_ADVICE = ("You can reproduce this test case by", "You can add @seed")


def _clean_notes(exc: BaseException) -> list[str]:
    notes = [str(n) for n in getattr(exc, "__notes__", [])]
    return [n for n in notes if not n.lstrip().startswith(_HYPOTHESIS_ADVICE)]


@dataclass
class _Crash:
    path: str
    lineno: int
    message: str


class CleanFailure:
    """A failure shown as plain text: clause, details, reproducer (no ``E`` prefixes)."""

    def __init__(self, text: str, crash: _Crash) -> None:
        self.text = text
        self.reprcrash = crash

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def _clean_repr(item: pytest.Item, exc: BaseException) -> CleanFailure:
    leaves = _leaves(exc)
    parts: list[str] = []
    if len(leaves) > 1:
        parts.append(f"{len(leaves)} distinct failures (Hypothesis found each separately):")
    for index, leaf in enumerate(leaves, 1):
        if len(leaves) > 1:
            parts.append(f"--- failure {index} of {len(leaves)} ---")
        parts.append(str(leaf))
        parts.extend(_clean_notes(leaf))
    parts.extend(_clean_notes(exc) if exc is not leaves[0] else [])
    path, lineno, _ = item.location
    parts.append(f"Rerun this test: {rerun_command(item)}")
    parts.append(f"(test at {path}:{(lineno or 0) + 1})")
    first = str(leaves[0]).splitlines()[0] if str(leaves[0]) else type(leaves[0]).__name__
    return CleanFailure("\n".join(parts), _Crash(path, (lineno or 0) + 1, first))


def _failure_infos(exc: BaseException) -> list[_report.FailureInfo]:
    infos = []
    for leaf in _leaves(exc):
        if isinstance(leaf, ConformanceFailure):
            infos.append(_report.FailureInfo(leaf.clause_id, str(leaf), leaf.reproducer))
        else:
            infos.append(_report.FailureInfo(None, f"{type(leaf).__name__}: {leaf}"))
    return infos


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except BaseException as exc:
        state = item.config.stash[STATE_KEY]
        if (
            state.active
            and is_suite_item(item)
            and isinstance(exc, Exception)
            and _conformance_failure(exc) is None
        ):
            ids = ", ".join(clause_ids_of(item)) or "(none)"
            exc.add_note(
                f"\nbbrl_conformance: unexpected {type(exc).__name__} while checking clause(s) "
                f"{ids} (raised by the implementation or a broken test).\n"
                f"Rerun: {rerun_command(item)}"
            )
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.config.stash[STATE_KEY]
    if not (state.active and is_suite_item(item)):
        return report
    record = state.tests.get(stable_test_id(item))
    if record is None:
        return report
    exc = call.excinfo.value if call.excinfo is not None else None
    failure = _conformance_failure(exc)
    if report.when == "call" or report.outcome != "passed":
        outcome = _report.outcome_of(report)
        if (
            outcome == "skipped"
            and isinstance(exc, pytest.skip.Exception)
            and str(exc.msg).startswith(NOT_CLAIMED)
        ):
            outcome = "not-claimed"
        if outcome is not None:
            record.update(outcome, failure.clause_id if failure else None)
        if outcome in ("failed", "xfailed") and not record.failures:
            if exc is not None:
                record.failures = _failure_infos(exc)
                record.first_failure = next(
                    (f.message for f in record.failures if f.clause is not None),
                    record.failures[0].message,
                )
            else:
                record.first_failure = str(report.longrepr)
                record.failures = [_report.FailureInfo(None, record.first_failure)]
        if failure is not None:
            report.user_properties.append(("conformance_clause", failure.clause_id))
        if (
            report.failed
            and exc is not None
            and all(isinstance(e, ConformanceFailure) for e in _leaves(exc))
        ):
            report.longrepr = _clean_repr(item, exc)  # type: ignore[assignment]
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist controller: add a finished worker's results (its ``workeroutput``)."""
    data = getattr(node, "workeroutput", {}).get("bbrl_conformance")
    if data is not None:
        node.config.stash[STATE_KEY].merge(data)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[STATE_KEY]
    if _is_worker(session.config):
        session.config.workeroutput["bbrl_conformance"] = state.to_dict()  # type: ignore[attr-defined]
        return
    if not state.active:
        return
    if state.ledger_errors and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    report_dir = session.config.getoption("conformance_report")
    if report_dir:
        data = _report.build_report(
            impl=state.impl,
            tests=list(state.tests.values()),
            profile=_profile_name(session.config),
            deviation_files=state.deviation_files,
            ledger_errors=state.ledger_errors,
            complete=_is_complete(state),
            exit_status=int(session.exitstatus),
        )
        _report.write_report(Path(report_dir), data)


def _profile_name(config: pytest.Config) -> str:
    from bbrl_conformance._profiles import chosen_profile

    return chosen_profile(config.getoption("profile"))


def _is_complete(state: SuiteState) -> bool:
    return (
        state.complete_collection
        and state.deselected == 0
        and all(t.outcome not in (None, "skipped") for t in state.tests.values())
    )


def _clause_results(state: SuiteState) -> list[_report.ClauseResult]:
    unclaimed = state.impl.unclaimed if state.impl else ()
    return _report.clause_results(list(state.tests.values()), unclaimed)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = terminalreporter.config.stash[STATE_KEY]
    if not state.active or _is_worker(terminalreporter.config):
        return
    terminalreporter.section("bbrl_conformance: per-clause summary")
    for line in _report.summary_table(_clause_results(state)):
        terminalreporter.write_line(line)
    if state.impl is not None and state.impl.unclaimed:
        terminalreporter.write_line(
            f"areas not claimed by {state.impl.module_name} (their clauses: not-claimed): "
            + ", ".join(f"{a} ({AREAS[a].title})" for a in state.impl.unclaimed)
        )
    if not _is_complete(state):
        terminalreporter.write_line(
            "note: partial run (tests deselected, skipped or not reached): "
            "'not-tested' clauses may have tests"
        )
    for error in state.ledger_errors:
        terminalreporter.write_line(f"STALE DEVIATION (fails the run): {error}", red=True)
    result = _triage.triage(list(state.tests.values()))
    if result.roots or result.unexpected or result.now_passing:
        count = len(result.roots)
        terminalreporter.section(
            f"bbrl_conformance: {count} distinct failing clause{'s' * (count != 1)}", red=True
        )
        module = state.impl.module_name if state.impl else None
        for line in _triage.summary_lines(result, module):
            terminalreporter.write_line(line)
