"""Sessions for bbrl-spec: `python3 -m nox` runs the default ones (what CI runs).

Every session installs with `-c constraints.txt`: torch must stay pinned to the CPU build
(an unpinned torch pulls a multi-GB CUDA build). pip, not uv: uv does not see the local wheel.
"""

from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "tests", "conformance", "conformance_bbrl"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))
BBRL = "bbrl==1.0.1"
MYPY_GROUPS = (
    ("reference/bbrl_reference", "conformance/bbrl_conformance", "conformance/tools", "noxfile.py"),
    ("reference/tests", "reference/type_tests"),
    ("conformance/meta_tests",),
    ("benchmarks", "examples", "tests"),
)


def install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install the project (editable) and the named dependency groups, all pinned."""
    requirements: list[str] = []
    for group in groups:
        requirements += nox.project.dependency_groups(PYPROJECT, group)
    if project:
        # torch first and alone, so that nothing else can pick a CUDA build for it.
        session.install(*CONSTRAINTS, "torch")
        requirements += ["-e", str(ROOT)]
    if requirements:
        session.install(*CONSTRAINTS, *requirements)


def install_bbrl(session: nox.Session) -> None:
    """bbrl 1.0.1 without its declared dependencies (it needs only torch, numpy, gymnasium)."""
    session.install("--no-deps", BBRL)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    install(session, "lint", project=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every Python file: packages, tests, benchmarks, examples, noxfile."""
    install(session, "typecheck")
    # One run per group: test folders each have their own conftest.py, which one mypy run
    # would see as duplicate modules.
    for paths in MYPY_GROUPS:
        session.run("mypy", *paths)


@nox.session
def tests(session: nox.Session) -> None:
    """All tests: reference unit tests, suite meta tests, examples smoke, benchmark smoke."""
    install(session, "test", "examples")
    install_bbrl(session)
    # The reference's own unit tests cover every branch of it (STYLE C9).
    session.run("coverage", "run", "-m", "pytest", "-q", "reference/tests")
    session.run("coverage", "report")
    # pytest exits 5 when it collects no test: nox treats any non-zero exit as a failure.
    session.run("pytest", "--benchmark-disable", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance suite against the reference, with a per-clause report in report/."""
    install(session)
    session.run(
        "python",
        "-m",
        "bbrl_conformance",
        "--impl",
        "bbrl_reference",
        "--report",
        str(ROOT / "report" / "reference"),
        *session.posargs,
    )


@nox.session
def conformance_bbrl(session: nox.Session) -> None:
    """The suite against bbrl 1.0.1: fails without its deviations ledger, passes with it."""
    install(session)
    install_bbrl(session)
    adapter = "bbrl_conformance.adapters.bbrl"
    session.log("Without the deviations ledger the suite must fail on bbrl's known bugs:")
    session.run(
        "python",
        "-m",
        "bbrl_conformance",
        "--impl",
        adapter,
        "--no-deviations",
        "--report",
        str(ROOT / "report" / "bbrl-raw"),
        success_codes=[1],
    )
    session.log("With the ledger every remaining test must pass and every entry must still fail:")
    session.run(
        "python",
        "-m",
        "bbrl_conformance",
        "--impl",
        adapter,
        "--report",
        str(ROOT / "report" / "bbrl"),
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Full benchmarks side by side with bbrl 1.0.1 and TorchRL: writes benchmarks/RESULTS.md."""
    install(session, "test", "examples")
    install_bbrl(session)
    session.install(*CONSTRAINTS, "-r", "benchmarks/requirements.txt")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(default=False)
def examples(session: nox.Session) -> None:
    """The notebook example, then full DQN and A2C runs over 5 seeds, into examples/out/."""
    install(session, "examples")
    seeds = ("--seeds", "0", "1", "2", "3", "4", "--out", "examples/out")
    session.run("python", "examples/multi_env_autoreset.py")
    session.run("python", "examples/dqn_cartpole.py", "--steps", "100000", *seeds)
    session.run("python", "examples/a2c_cartpole.py", "--steps", "300000", *seeds)
    session.log("copy examples/out/*_summary.json and *_curve.png to examples/results/ to publish")


@nox.session(default=False)
def mutants(session: nox.Session) -> None:
    """Mutation testing, sampled: a fixed seeded subset of the reference's mutants (~15 min).

    The conformance suite judges each mutant (mutmut, conformance/tools/mutation.py); survivors
    are merged into conformance/mutation/triage.toml, and the session fails while any is open.
    Arguments go to `mutation.py run`, e.g. `nox -s mutants -- --sample 100 --jobs 2`.
    """
    install(session, "mutation")
    session.run("python", "conformance/tools/mutation.py", "run", *session.posargs)
    session.run("python", "conformance/tools/mutation_triage.py", "--check")


@nox.session(default=False)
def mutants_full(session: nox.Session) -> None:
    """Mutation testing of every mutant of the reference (hours); then the triage, as above."""
    install(session, "mutation")
    session.run("python", "conformance/tools/mutation.py", "run", "--all", *session.posargs)
    session.run("python", "conformance/tools/mutation_triage.py", "--check")


@nox.session(default=False)
def kill_matrix(session: nox.Session) -> None:
    """Regenerate conformance/KILL_MATRIX.md: the whole suite against every zoo mutant."""
    install(session)
    session.run("python", "conformance/tools/kill_matrix.py", *session.posargs)


if __name__ == "__main__":
    nox.main()
