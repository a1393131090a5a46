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

import pytest

from bbrl_conformance import _report
from bbrl_conformance._clauses import clause_ids_of, registry
from bbrl_conformance._deviations import Deviation, DeviationsError, load_deviations
from bbrl_conformance._failure import ConformanceFailure, set_implementation_name
from bbrl_conformance._impl import (
    ENV_VAR,
    ImplementationError,
    LoadedImplementation,
    chosen_module_name,
    load_implementation,
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


STATE_KEY = pytest.StashKey[SuiteState]()


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
        impl = load_implementation(name)
    except ImplementationError as exc:
        lines.append(f"bbrl_conformance: {exc}")
    else:
        lines.append(f"bbrl_conformance: implementation {impl.name} {impl.version} ({name})")
        if impl.missing:
            lines.append(f"bbrl_conformance: missing names: {', '.join(impl.missing)}")
    bbrl_vars = sorted(k for k in os.environ if k.startswith(("BBRL_", "HYPOTHESIS_")))
    lines.extend(f"bbrl_conformance: {k}={os.environ[k]}" for k in bbrl_vars)
    return lines


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
        state.impl = load_implementation(name)
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
    _select_clauses(config, items)


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
        state.deselected += sum(1 for item in items if is_suite_item(item))


def _conformance_failure(exc: BaseException | None) -> ConformanceFailure | None:
    if isinstance(exc, ConformanceFailure):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _conformance_failure(inner)
            if found is not None:
                return found
    return None


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
            impl = state.impl.module_name if state.impl else "MODULE"
            name = item.name.split("[")[0]
            ids = ", ".join(clause_ids_of(item)) or "(none)"
            exc.add_note(
                f"\nbbrl_conformance: unexpected {type(exc).__name__} while checking clause(s) "
                f"{ids} (raised by the implementation or a broken test).\nRerun: python -m "
                f"bbrl_conformance --impl {impl} -- -k {shlex.quote(name)}"
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
        if outcome is not None:
            record.update(outcome, failure.clause_id if failure else None)
        if outcome in ("failed", "xfailed") and record.first_failure is None:
            if failure is not None:
                record.first_failure = str(failure)
            elif exc is not None:
                record.first_failure = f"{type(exc).__name__}: {exc}"
            else:
                record.first_failure = str(report.longrepr)
        if failure is not None:
            report.user_properties.append(("conformance_clause", failure.clause_id))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[STATE_KEY]
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = terminalreporter.config.stash[STATE_KEY]
    if not state.active:
        return
    terminalreporter.section("bbrl_conformance: per-clause summary")
    for line in _report.summary_table(_report.clause_results(list(state.tests.values()))):
        terminalreporter.write_line(line)
    if not _is_complete(state):
        terminalreporter.write_line(
            "note: partial run (tests deselected, skipped or not reached): "
            "'not-tested' clauses may have tests"
        )
    for error in state.ledger_errors:
        terminalreporter.write_line(f"STALE DEVIATION (fails the run): {error}", red=True)
