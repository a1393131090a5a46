"""Sessions for bbrl-spec: `python3 -m nox` runs the default ones (what CI runs).

Every session installs with `-c constraints.txt`: torch must stay pinned to the CPU build
(an unpinned torch pulls a multi-GB CUDA build). pip, not uv: uv does not see the local wheel.
"""

import glob
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "conformance",
    "conformance_bbrl",
    "build",
    "wheel",
]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))
BBRL = "bbrl==1.0.1"
MYPY_GROUPS = (
    ("reference/bbrl_reference", "conformance/bbrl_conformance", "conformance/tools", "noxfile.py"),
    ("reference/tests", "reference/type_tests"),
    ("conformance/meta_tests",),
    ("benchmarks", "examples", "tests"),
    ("conformance/examples",),
)
#: the Python versions bbrl-spec supports (pyproject's classifiers); `nox -s wheel -- 3.12`
PYTHONS = ("3.11", "3.12", "3.13")
TORCH = "torch==2.13.0"


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


def build_dists(session: nox.Session, outdir: Path) -> list[Path]:
    """Build the sdist and the wheel into ``outdir`` (emptied first); check them with twine."""
    install(session, "build", project=False)
    shutil.rmtree(outdir, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(outdir), str(ROOT))
    dists = sorted(outdir.iterdir())
    session.run("twine", "check", "--strict", *map(str, dists))
    return dists


@nox.session
def build(session: nox.Session) -> None:
    """The sdist and the wheel, in dist/ (python -m build, twine check)."""
    dists = build_dists(session, ROOT / "dist")
    session.log("built: " + ", ".join(d.name for d in dists))


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` that runs: on PATH, else a pyenv installation."""
    candidates = [shutil.which(f"python{version}") or ""]
    candidates += sorted(glob.glob(str(Path.home() / f".pyenv/versions/{version}.*/bin/python3")))
    for exe in filter(None, candidates):
        probe = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.startswith(f"Python {version}."):
            return exe
    return None


@nox.session
def wheel(session: nox.Session) -> None:
    """Install the built wheel into fresh venvs OUTSIDE the repository, as a user would (torch
    pinned on the command line, no constraints file), and run the suite from there against the
    reference and against the example partial implementation (through the CI shell recipe).

    Python versions: the session's arguments (default 3.11): `nox -s wheel -- 3.11 3.12 3.13`.
    Here torch 2.13.0's CPU wheel is at hand for 3.11 only; for 3.12 and 3.13 pip takes PyPI's
    (CUDA) build, about 5 GB per venv.
    """
    versions = session.posargs or ["3.11"]
    unknown = sorted(set(versions) - set(PYTHONS))
    if unknown:
        session.error(f"unsupported Python versions {unknown}: expected some of {PYTHONS}")
    wheels = [
        d for d in build_dists(session, Path(tempfile.mkdtemp()) / "dist") if d.suffix == ".whl"
    ]
    for version in versions:
        python = find_python(version)
        if python is None:
            session.error(f"no Python {version} interpreter found")
        outside = Path(tempfile.mkdtemp(prefix=f"bbrl-spec-wheel-{version}-"))
        session.log(f"Python {version} ({python}): venv and runs in {outside}")
        session.run(python, "-m", "venv", str(outside / "venv"), external=True)
        venv_python = str(outside / "venv" / "bin" / "python")
        pip = (venv_python, "-m", "pip", "install", "-q")
        # As README says: torch first and pinned, then the wheel with the same pin.
        session.run(*pip, TORCH, external=True)
        session.run(*pip, str(wheels[0]), TORCH, external=True)
        shutil.copytree(ROOT / "conformance" / "examples", outside / "examples")
        clean = {"PYTHONPATH": "", "BBRL_CONFORMANCE_IMPL": "", "HYPOTHESIS_PROFILE": ""}
        with session.chdir(outside):
            # the installed package, not this checkout
            where = "import bbrl_conformance as m; assert 'site-packages' in m.__file__, m.__file__"
            session.run(venv_python, "-c", where, external=True, env=clean)
            session.run(
                venv_python,
                *("-m", "bbrl_conformance", "--impl", "bbrl_reference"),
                *("--report", str(outside / "report-reference")),
                external=True,
                env=clean,
            )
            session.run(
                "bash",
                str(ROOT / "conformance" / "ci" / "run-conformance.sh"),
                external=True,
                env={
                    **clean,
                    "IMPL": "partial_core",
                    "PYTHON": venv_python,
                    "SKIP_INSTALL": "1",
                    "LEDGER": str(outside / "examples" / "deviations.toml"),
                    "OUT": str(outside / "report-partial"),
                    "PYTHONPATH": str(outside / "examples"),
                },
            )
        kept = ROOT / "report" / f"wheel-{version}"
        shutil.rmtree(kept, ignore_errors=True)
        for name in ("report-reference", "report-partial"):
            shutil.copytree(outside / name, kept / name)
        shutil.rmtree(outside)  # the venv holds torch: up to 5 GB
        session.log(f"Python {version}: green from the wheel; reports in {kept}")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Full benchmarks side by side with bbrl 1.0.1 and TorchRL, into benchmarks/out/;
    `nox -s bench -- --publish` updates the committed RESULTS.md, results.json and charts/."""
    install(session, "test", "examples")
    install_bbrl(session)
    session.install(*CONSTRAINTS, "-r", "benchmarks/requirements.txt")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(default=False)
def long_run(session: nox.Session) -> None:
    """1e6 env steps through the epoch loop and a 1e6-item buffer filled three times: memory
    growth and lost transitions (benchmarks/long_run.py, ~2 min here); into benchmarks/out/."""
    install(session)
    out = "benchmarks/out/long_run.json"
    session.run("python", "benchmarks/long_run.py", "--json", out, *session.posargs)


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
