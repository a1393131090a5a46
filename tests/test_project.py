"""Checks on the repository itself: the README's commands, CI, the reference's imports, the spec."""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAUSE = re.compile(
    r"^\*\*((WS|AG|TA|ENV|TR|RB|ERR|DET)-(\d+))\*\* \((MUST NOT|MUST|SHOULD NOT|SHOULD|MAY)\)\. \S"
)


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_gives_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    main_job, all_tests = commands
    assert "bbrl_conformance --impl bbrl_reference" in main_job
    ci_lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert all_tests in ci_lines, f"{all_tests!r} not in .ci/run: {ci_lines}"


def test_torch_is_pinned_wherever_something_is_installed() -> None:
    constraints = (ROOT / "constraints.txt").read_text().splitlines()
    assert "torch==2.13.0" in constraints
    noxfile = (ROOT / "noxfile.py").read_text()
    assert "CONSTRAINTS" in noxfile and "constraints.txt" in noxfile
    for command in readme_commands():
        assert "-c constraints.txt" in command, command


def imported_top_level_modules(package: Path) -> set[str]:
    found: set[str] = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_reference_imports_only_torch_numpy_gymnasium_and_the_stdlib() -> None:
    modules = imported_top_level_modules(ROOT / "reference" / "bbrl_reference")
    third_party = {m for m in modules if m not in sys.stdlib_module_names}
    assert third_party <= {"torch", "numpy", "gymnasium"}, third_party


def test_suite_never_imports_the_reference() -> None:
    modules = imported_top_level_modules(ROOT / "conformance" / "bbrl_conformance")
    assert "bbrl_reference" not in modules


def test_spec_clause_ids_are_well_formed_and_unique() -> None:
    seen: dict[str, str] = {}
    for path in sorted((ROOT / "spec").glob("*.md")):
        for paragraph in path.read_text().split("\n\n"):
            paragraph = paragraph.strip()
            if not paragraph.startswith("**") or not re.match(r"^\*\*[A-Z]+-\d+\*\*", paragraph):
                continue
            match = CLAUSE.match(paragraph)
            assert match, f"{path.name}: malformed clause: {paragraph[:80]!r}"
            clause_id = match.group(1)
            assert clause_id not in seen, f"{clause_id} in {path.name} and {seen[clause_id]}"
            seen[clause_id] = path.name
    assert len(seen) > 50
