"""Mutation testing of the reference with the conformance suite as the judge (mutmut 3).

Usage, from the repository root (``nox -s mutants`` and ``nox -s mutants_full`` wrap this):

    python conformance/tools/mutation.py run [--sample N] [--seed S] [--jobs J]  # seeded subset
    python conformance/tools/mutation.py run --all                             # every mutant
    python conformance/tools/mutation.py show TEXT          # the mutants matching TEXT
    python conformance/tools/mutation.py explain NAME       # the suite's verdict on one mutant

``run`` copies ``reference/bbrl_reference`` and ``conformance/bbrl_conformance`` into a scratch
project (``build/mutation/``, never the worktree itself), lets mutmut write its mutants there
(``mutants/``), and runs ``mutmut run``: for each mutant, the conformance tests that call the
mutated function (found by mutmut's stats run), fastest first (``mutation_order.py``), with
``-x``, the ``mutants`` Hypothesis profile (``ci`` without shrinking) and a per-mutant timeout
(a mutant that hangs is reported "timeout" and counts as killed). It writes
``build/mutation/results.json``: every generated mutant with its stable key (file, function,
the changed source lines, occurrence), its line and its status. ``mutation_triage.py`` merges
the survivors of that run into ``conformance/mutation/triage.toml`` (see
``conformance/mutation/README.md``).

This module uses a few internals of mutmut (pinned in constraints.txt), all in ``_generate``:
``create_mutants``, ``copy_src_dir``, ``copy_also_copy_files``, ``SourceFileMutationData``,
``get_diff_for_mutant`` and ``orig_function_and_class_names_from_key``. Re-check them when
upgrading mutmut.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mutation_triage import KILLED, SURVIVED, TRIAGE, Key, Triage, entry_key

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference" / "bbrl_reference"
SUITE = ROOT / "conformance" / "bbrl_conformance"
ORDER_PLUGIN = Path(__file__).resolve().parent / "mutation_order.py"
SCRATCH = ROOT / "build" / "mutation"

#: Sampled mode: this many mutants (the seeded subset), sized to take ~15 minutes on the
#: project's 2-core machine when it is quiet, with one worker (conformance/mutation/README.md).
DEFAULT_SAMPLE = 700
DEFAULT_SEED = 14
#: Per-mutant timeout (mutmut): wall limit (estimate + constant) * multiplier seconds, CPU
#: limit twice that, where the estimate is the stats run's time of the selected tests.
TIMEOUT_MULTIPLIER = 10.0
TIMEOUT_CONSTANT = 3.0

#: The suite as the runner runs it (``python -m bbrl_conformance --impl bbrl_reference``), plus
#: the ``mutants`` profile and the fastest-first order. mutmut adds ``-x`` and the test ids.
PYTEST_ARGS = [
    "-c",
    os.devnull,
    "-p",
    "no:cacheprovider",
    "--strict-markers",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
    "--impl",
    "bbrl_reference",
    "--no-deviations",
    "--profile",
    "mutants",
    "-p",
    "mutation_order",
]


@dataclass
class Mutant:
    """One mutant of the reference; ``key()`` identifies it across runs and code changes."""

    name: str  # mutmut's name: an index that shifts when the function changes
    file: str  # relative to reference/, e.g. bbrl_reference/_workspace.py
    function: str  # qualified name, e.g. Workspace.set
    line: int  # line of the first changed source line
    before: str  # the changed source lines, stripped, joined with newlines
    after: str  # what the mutant has instead
    occurrence: int = 1  # among mutants of the same function with the same before/after
    status: str = "not checked"

    def key(self) -> Key:
        return (self.file, self.function, self.before, self.after, self.occurrence)

    def where(self) -> str:
        return f"reference/{self.file}:{self.line} ({self.function})"

    def change(self) -> str:
        return f"{_one_line(self.before)}  ->  {_one_line(self.after)}"


def _one_line(text: str) -> str:
    return " / ".join(text.splitlines()) or "(nothing)"


# --- the scratch project -------------------------------------------------------------------


def _toml_value(value: object) -> str:
    # JSON strings, numbers, booleans and arrays of them are valid TOML.
    return json.dumps(value, ensure_ascii=False)


def mutmut_config() -> dict[str, object]:
    return {
        "source_paths": ["bbrl_reference"],
        "also_copy": ["bbrl_conformance", "mutation_order.py"],
        "pytest_add_cli_args_test_selection": ["bbrl_conformance/tests"],
        "pytest_add_cli_args": PYTEST_ARGS,
        # torch is not fork-safe in mutmut's main process: fork workers from a server that
        # imported pytest and collected the suite once.
        "process_isolation": "forkserver",
        "timeout_multiplier": TIMEOUT_MULTIPLIER,
        "timeout_constant": TIMEOUT_CONSTANT,
        "use_git_change_detection": False,
        "log_to_file": True,  # per-mutant wall times in mutants/mutmut-debug.log
    }


def prepare_scratch(scratch: Path) -> None:
    """A fresh copy of the current reference and suite, with mutmut's configuration."""
    if scratch.exists():
        shutil.rmtree(scratch)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REFERENCE, scratch / "bbrl_reference", ignore=ignore)
    shutil.copytree(SUITE, scratch / "bbrl_conformance", ignore=ignore)
    shutil.copy2(ORDER_PLUGIN, scratch / "mutation_order.py")
    lines = ["[tool.mutmut]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in mutmut_config().items()]
    (scratch / "pyproject.toml").write_text("\n".join(lines) + "\n")


# --- mutant generation and keys (runs inside the scratch project) --------------------------


def function_spans(source: str) -> dict[str, tuple[int, int]]:
    """Qualified function name -> (first line incl. decorators, last line), top level/methods."""
    spans: dict[str, tuple[int, int]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                spans[prefix + node.name] = (first, node.end_lineno or node.lineno)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(source).body, "")
    return spans


HUNK = re.compile(r"^@@ -(\d+)")


def parse_diff(diff: str) -> tuple[str, str, int]:
    """(removed lines, added lines, 0-based offset of the first change in the function text)."""
    before: list[str] = []
    after: list[str] = []
    offset = -1
    position = 0
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        hunk = HUNK.match(line)
        if hunk:
            position = int(hunk.group(1)) - 1
            continue
        if line.startswith("-"):
            before.append(line[1:].strip())
            offset = position if offset < 0 else offset
            position += 1
        elif line.startswith("+"):
            after.append(line[1:].strip())
            offset = position if offset < 0 else offset
        else:
            position += 1
    return "\n".join(before), "\n".join(after), max(offset, 0)


def locate(lines: Sequence[str], span: tuple[int, int], text: str, offset: int) -> int:
    """The 1-based line in ``span`` holding ``text`` nearest to ``span[0] + offset``."""
    first, last = span
    want = text.splitlines()[0] if text else ""
    candidates = [i for i in range(first, last + 1) if lines[i - 1].strip() == want]
    if not candidates:
        return first
    return min(candidates, key=lambda i: abs(i - (first + offset)))


def assign_occurrences(mutants: list[Mutant]) -> None:
    seen: Counter[tuple[str, str, str, str]] = Counter()
    for m in mutants:
        base = (m.file, m.function, m.before, m.after)
        seen[base] += 1
        m.occurrence = seen[base]


def _mutant_index(name: str) -> int:
    return int(name.rpartition("__mutmut_")[2])


def generate() -> None:
    """Write every mutant and ``mutants.json`` (in the scratch project, the current directory)."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    create_mutants(1)
    mutants: list[Mutant] = []
    for path in sorted(Path("bbrl_reference").rglob("*.py")):
        data = SourceFileMutationData(path=path)
        data.load()
        source = path.read_text()
        lines = source.splitlines()
        spans = function_spans(source)
        for name in sorted(data.exit_code_by_key, key=_mutant_index):
            function, cls = orig_function_and_class_names_from_key(name)
            qualname = f"{cls}.{function}" if cls else function
            before, after, offset = parse_diff(get_diff_for_mutant(name, path=path))
            span = spans.get(qualname, (1, len(lines)))
            line = locate(lines, span, before or after, offset)
            mutants.append(Mutant(name, path.as_posix(), qualname, line, before, after))
    assign_occurrences(mutants)
    Path("mutants.json").write_text(json.dumps([asdict(m) for m in mutants], indent=1))


# --- sampling, running, collecting ---------------------------------------------------------


def key_text(key: Iterable[object]) -> str:
    return "\x00".join(str(part) for part in key)


def sample(mutants: Sequence[Mutant], size: int, seed: int) -> list[Mutant]:
    """The ``size`` mutants whose keys hash lowest under ``seed``.

    A mutant's rank depends only on its own stable key, so a change elsewhere in the reference
    leaves most of the sample unchanged (unlike an index-based random.sample).
    """

    def rank(m: Mutant) -> str:
        return hashlib.sha256(f"{seed}\x00{key_text(m.key())}".encode()).hexdigest()

    return sorted(mutants, key=rank)[:size]


def statuses(scratch: Path) -> dict[str, str]:
    """mutmut's status of every mutant, from its ``.meta`` files."""
    from mutmut.stats import status_by_exit_code

    result: dict[str, str] = {}
    for meta in sorted((scratch / "mutants" / "bbrl_reference").rglob("*.py.meta")):
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        result.update({name: status_by_exit_code[code] for name, code in codes.items()})
    return result


COMPLETED = re.compile(r"Completed (\S+): exit=(-?\d+) \(([\d.]+)s\)")


def wall_times(scratch: Path) -> dict[str, float]:
    """Per-mutant wall time of its test run, from the fork server's debug log."""
    times: dict[str, float] = {}
    for log in sorted((scratch / "mutants").glob("mutmut-debug.log*")):
        for match in COMPLETED.finditer(log.read_text(errors="replace")):
            times[match.group(1)] = float(match.group(3))
    return times


def load_mutants(path: Path) -> list[Mutant]:
    return [Mutant(**m) for m in json.loads(path.read_text())]


def canary_keys() -> list[Key]:
    """The keys of the triage file's canaries: every run includes them (see the README)."""
    return [entry_key(canary) for canary in Triage.load(TRIAGE).canaries]


def mutmut_executable() -> str:
    exe = Path(sys.executable).parent / "mutmut"
    return str(exe) if exe.is_file() else "mutmut"


def run(args: argparse.Namespace) -> int:
    scratch: Path = args.scratch
    started = datetime.now(UTC)
    t0 = time.monotonic()
    cpu0 = _children_cpu()
    prepare_scratch(scratch)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BBRL_CONFORMANCE_IMPL", "HYPOTHESIS_PROFILE")
    }
    # One intra-op thread per worker: the suite's tensors are tiny, and workers share cores.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_generate"],
        cwd=scratch,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    mutants = load_mutants(scratch / "mutants.json")
    by_key = {m.key(): m for m in mutants}
    if args.all:
        chosen = list(mutants)
    else:
        chosen = sample(mutants, args.sample, args.seed)
        chosen_keys = {m.key() for m in chosen}
        # The canaries always run: they show the setup reports a kill and a survivor rightly.
        chosen += [by_key[k] for k in canary_keys() if k in by_key and k not in chosen_keys]
    names = [] if args.all else sorted(m.name for m in chosen)
    print(
        f"mutation: {len(mutants)} mutants of reference/bbrl_reference; running "
        f"{len(chosen)} ({'all' if args.all else f'sample of {args.sample}, seed {args.seed}'}) "
        f"with {args.jobs} worker(s); log: {scratch / 'mutmut.log'}",
        flush=True,
    )
    t1 = time.monotonic()
    cpu1 = _children_cpu()
    with open(scratch / "mutmut.log", "w") as log:
        proc = subprocess.run(
            [mutmut_executable(), "run", "--max-children", str(args.jobs), *names],
            cwd=scratch,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    t2 = time.monotonic()
    cpu2 = _children_cpu()
    if proc.returncode != 0:
        tail = (scratch / "mutmut.log").read_text(errors="replace")[-3000:]
        print(f"mutmut run failed (exit {proc.returncode}):\n{tail}", file=sys.stderr)
        return proc.returncode
    status = statuses(scratch)
    times = wall_times(scratch)
    for m in mutants:
        m.status = status.get(m.name, "not checked")
    results = {
        "date": started.isoformat(timespec="seconds"),
        "mode": "all" if args.all else "sample",
        "sample": None if args.all else args.sample,
        "seed": None if args.all else args.seed,
        "jobs": args.jobs,
        "mutmut": _version("mutmut"),
        "load_average_at_start": os.getloadavg()[0],
        "seconds": {
            "generate": round(t1 - t0, 1),
            "generate_cpu": round(cpu1 - cpu0, 1),
            "mutmut_run": round(t2 - t1, 1),
            # CPU time of mutmut and all its processes: about the wall time on an idle core
            "mutmut_run_cpu": round(cpu2 - cpu1, 1),
            "mutant_test_runs": round(sum(times.get(m.name, 0.0) for m in chosen), 1),
        },
        "wall_time_by_mutant": {m.name: times[m.name] for m in chosen if m.name in times},
        "mutants": [asdict(m) for m in mutants],
    }
    (scratch / "results.json").write_text(json.dumps(results, indent=1))
    print_summary(results)
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def print_summary(results: dict[str, Any]) -> None:
    mutants = [Mutant(**m) for m in results["mutants"]]
    tested = [m for m in mutants if m.status in KILLED | SURVIVED]
    counts = Counter(m.status for m in tested)
    times = results["wall_time_by_mutant"]
    killed = [times[m.name] for m in tested if m.status in KILLED - {"timeout"} and m.name in times]
    survived = [times[m.name] for m in tested if m.status in SURVIVED and m.name in times]
    secs = results["seconds"]
    print(
        f"mutation: {len(tested)} mutants tested: "
        + ", ".join(f"{n} {s}" for s, n in counts.most_common())
    )
    print(
        f"time: {secs['generate']:.0f} s to generate, {secs['mutmut_run']:.0f} s in mutmut run "
        f"({secs['mutmut_run_cpu']:.0f} s CPU; its stats, clean and forced-fail runs "
        f"included); per mutant: killed "
        f"{_mean(killed):.2f} s mean (timeouts apart), survived {_mean(survived):.2f} s mean"
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- show ----------------------------------------------------------------------------------


def show(args: argparse.Namespace) -> int:
    results = json.loads((args.scratch / "results.json").read_text())
    found = 0
    for m in (Mutant(**m) for m in results["mutants"]):
        if args.text in m.name or args.text in m.where() or args.text in m.change():
            found += 1
            print(f"{m.where()} [{m.status}] {m.name}\n  - {m.before}\n  + {m.after}\n")
    return 0 if found else 1


def explain(args: argparse.Namespace) -> int:
    """Run the whole suite (or ``--first``: up to the first failure) with one mutant active."""
    mutants = load_mutants(args.scratch / "mutants.json")
    matches = [m for m in mutants if m.name == args.name]
    if not matches:
        print(f"no mutant named {args.name!r} in {args.scratch / 'mutants.json'}", file=sys.stderr)
        return 2
    m = matches[0]
    print(f"{m.where()}: {m.change()}", flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("BBRL_CONFORMANCE_IMPL",)}
    # The trampolined copies in mutants/ must shadow the installed reference and suite (and
    # the pristine copies next to mutants/); their trampolines run the mutant named by
    # MUTANT_UNDER_TEST.
    mutated = args.scratch / "mutants"
    env.update(PYTHONPATH=str(mutated), MUTANT_UNDER_TEST=m.name)
    where = subprocess.run(
        [sys.executable, "-c", "import bbrl_reference; print(bbrl_reference.__file__)"],
        cwd=mutated,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).is_relative_to(mutated):
        print(f"the suite would test {where}, not the mutants in {mutated}", file=sys.stderr)
        return 2
    if args.current_suite:  # the mutated reference stays the run's; only the judge is updated
        target = mutated / "bbrl_conformance"
        shutil.rmtree(target)
        shutil.copytree(SUITE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    report = args.scratch / "explain"
    command = [sys.executable, "-m", "bbrl_conformance", "--impl", "bbrl_reference"]
    command += ["--no-deviations", "--profile", "mutants", "--report", str(report), "--"]
    command += ["-v", "-p", "no:randomly", *(["-x"] if args.first else [])]
    command += ["-k", args.tests] if args.tests else []
    try:
        proc = subprocess.run(
            command, cwd=mutated, env=env, capture_output=True, text=True, timeout=args.timeout
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        running = [line for line in partial.splitlines() if "::" in line][-1:]
        print(f"timeout: the suite did not finish in {args.timeout} s (a hang); last: {running}")
        return 0
    data = json.loads((report / "report.json").read_text())
    failed = [t for t in data["tests"] if t["outcome"] == "failed"]
    failing = [c["id"] for c in data["clauses"] if c["status"] == "fail"]
    print(f"exit {proc.returncode}; {len(failed)} failed tests; failing clauses: {failing}")
    for test in failed[:3]:
        print(f"--- {test['id']} ({test['failed_clause'] or 'exception'}):\n{test['failure']}")
    return 0


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=SCRATCH, help="scratch project directory")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="generate the mutants and run (a sample of) them")
    p_run.add_argument("--all", action="store_true", help="every mutant (hours)")
    p_run.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="sample size")
    p_run.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sample seed")
    p_run.add_argument("--jobs", type=int, default=1, help="mutmut workers (default 1)")
    p_show = sub.add_parser("show", help="print the mutants whose name, place or change matches")
    p_show.add_argument("text")
    p_explain = sub.add_parser("explain", help="the suite's verdict on one mutant, by clause")
    p_explain.add_argument("name", help="mutmut's name of the mutant (see show)")
    p_explain.add_argument("--first", action="store_true", help="stop at the first failure")
    p_explain.add_argument("--timeout", type=float, default=600, help="seconds (default 600)")
    p_explain.add_argument(
        "-k", dest="tests", default=None, help="only the tests matching this pytest -k expression"
    )
    p_explain.add_argument(
        "--current-suite",
        action="store_true",
        help="first copy the worktree's suite over the run's copy (tests written since the run)",
    )
    sub.add_parser("_generate", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "_generate":
        generate()
        return 0
    if args.command == "run":
        return run(args)
    if args.command == "explain":
        return explain(args)
    return show(args)


if __name__ == "__main__":
    sys.exit(main())
