"""bbrl's own tests, run against the reference through a module-path adapter (issue #10).

bbrl 1.0.1 ships its tests in its sdist on PyPI (``bbrl-1.0.1.tar.gz``, folder ``tests/``; the
same files as the osigaud/bbrl repository at 7a2292d). This module takes
``tests/test_gymnasium.py`` and ``tests/utils/test_replay_buffer.py`` from that sdist at test
time (they are bbrl's code, not ours, so they are not committed), checks that they are the
files we read (sha256), and runs them with pytest in a subprocess twice:

* against bbrl 1.0.1 itself, where all 11 tests must pass (a control of this harness);
* against ``bbrl_reference``, with ``bbrl``, ``bbrl.workspace``, ``bbrl.agents``,
  ``bbrl.agents.gymnasium``, ``bbrl.utils`` and ``bbrl.utils.replay_buffer`` redirected to it by
  a shim package written into a temporary folder put first on ``PYTHONPATH``.

Against the reference every test must pass except those in :data:`EXPECTED_FAILURES`, each with
its reason and a pattern its failure must match (strict: an unexpected pass fails, and so does a
failure for another reason). Each reason is a stated decision of the spec or a deviation of
``spec/deviations.md`` (bbrl's tests rely on behaviour the spec fixes otherwise), named by its
clause IDs and B-number; the pattern is the refusal the reference raises for it today. The
table in conformance/README.md ("bbrl's own tests") lists the same tests and reasons; a test
below checks that it names exactly these.

The sdist is found at ``$BBRL_SDIST`` (a path), else in ``.cache/`` at the repository root,
else downloaded there with ``pip download --no-deps --no-binary :all: bbrl==1.0.1`` from the
package index pip is configured with (PyPI in CI). No download, no test: the run fails with the
command to run by hand.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
SDIST_NAME = "bbrl-1.0.1.tar.gz"

#: bbrl's test files taken from the sdist, with the sha256 of the bytes this module was written
#: against (a different file is a different test suite: the list below would not apply).
TEST_FILES = {
    "test_gymnasium.py": "db0edae2489a56e0afb238bf90652db2b2107431b2d03338fffc0c78bd9cf3de",
    "utils/test_replay_buffer.py": (
        "1bbd77c31f167261f8c69abe8a62d864b69fb65d09a6d3b6b2bf0f4649da7518"
    ),
}

#: The parameters (autoreset, include_last_state, reward_at_t) of test_gymnasium_autoreset's
#: eight scenarios, in order.
SCENARIOS = (
    (True, False, False),
    (True, False, True),
    (True, True, False),
    (True, True, True),
    (True, False, False),
    (True, False, True),
    (False, False, False),
    (False, False, True),
)


def scenario_id(i: int) -> str:
    params = "-".join(str(p) for p in SCENARIOS[i])
    return f"test_gymnasium.py::test_gymnasium_autoreset[{params}-scenarios{i}]"


#: Every test of those files (pytest ids relative to the sdist's tests/ folder).
BBRL_TESTS = (
    "test_gymnasium.py::test_gymnasium_agent",
    *(scenario_id(i) for i in range(len(SCENARIOS))),
    "utils/test_replay_buffer.py::test_replay_buffer_put",
    "utils/test_replay_buffer.py::test_replay_buffer_overflow",
)

#: The shim package: each bbrl module path re-exports the reference.
SHIM = {
    "bbrl/__init__.py": "from bbrl_reference import *  # noqa: F403\n",
    "bbrl/workspace.py": "from bbrl_reference import *  # noqa: F403\n",
    "bbrl/agents/__init__.py": "from bbrl_reference import *  # noqa: F403\n",
    "bbrl/agents/gymnasium.py": "from bbrl_reference import *  # noqa: F403\n",
    "bbrl/utils/__init__.py": "",
    "bbrl/utils/replay_buffer.py": "from bbrl_reference import *  # noqa: F403\n",
}


@dataclass(frozen=True)
class Expected:
    """A bbrl test expected to fail on the reference: why, and what its failure says today."""

    reason: str
    match: str  # regex searched in the failure message and traceback


OBS_SHAPE = (
    "decision ENV-21 (spec/deviations.md, 'env outputs are converted without checks'; no "
    "B-number): MyEnv declares Box(0, 3, shape=(1,), dtype=int) but reset and step return a "
    "Python int (numpy shape ()); the reference checks every output against the space and "
    "raises EnvOutputShapeError (a ValueError) naming env 0 and t=0, where bbrl converts the "
    "value unchecked and shapes env/env_obs by it ([T, B] instead of ENV-2/ENV-9's [T, B, 1])"
)
LAST_STATE = (
    "deviation B7, decision ENV-28: include_last_state=False raises ValueError (bbrl's layout "
    "labels later episodes' timesteps off by one and loses the final observation); the "
    "reference refuses it whatever autoreset is, where bbrl ignores it without autoreset"
)
REWARD_AT_T = (
    "deviation B8, decision ENV-28: reward_at_t=True raises ValueError (bbrl's layout sets the "
    "done row's cumulated reward to 0 when the rollout continues)"
)
BEHIND = "; behind it, ENV-21 as in test_gymnasium_agent (MyEnv's int observations)"

TODAY_OBS_SHAPE = (
    r"EnvOutputShapeError: ParallelGymAgent: observation 'env/env_obs' of env 0 at t=0: "
    r"expected shape \(1,\), got \(\)"
)
TODAY_LAST_STATE = (
    r"InvalidArgumentError: ParallelGymAgent: argument 'include_last_state': expected True "
    r"\(.*\), got False"
)
TODAY_REWARD_AT_T = (
    r"InvalidArgumentError: ParallelGymAgent: argument 'reward_at_t': expected False "
    r"\(.*\), got True"
)


def layout_expected(autoreset: bool, include_last_state: bool, reward_at_t: bool) -> Expected:
    """Why a scenario of test_gymnasium_autoreset fails on the reference, and how: the agent
    checks include_last_state before reward_at_t, and MyEnv's observations after both."""
    del autoreset  # refused or not, the options do not depend on it (ENV-28)
    if not include_last_state:
        also = "; reward_at_t=True is refused too (B8), after it" if reward_at_t else ""
        return Expected(LAST_STATE + also + BEHIND, TODAY_LAST_STATE)
    if reward_at_t:
        return Expected(REWARD_AT_T + BEHIND, TODAY_REWARD_AT_T)
    return Expected(OBS_SHAPE, TODAY_OBS_SHAPE)


ONE_DIM = (
    "decision ERR-4 (spec/workspace.md, 'One-dimensional variables'; spec/deviations.md, 'a [T] "
    "tensor given to set_full'; no B-number): set_full('action', torch.arange(51)) raises "
    "ValueError, since every variable is [T, B, *S] ([T, 1] is the portable spelling); behind "
    "it, decision TR-6: the filter env/done = torch.full((51,), 0) is int64 and get_transitions "
    "raises TypeError for a filter that is not torch.bool. What the test reads next, "
    "rb.variables (RB-16) and rb.is_full (RB-15), the spec gives as bbrl does for these puts"
)
TODAY_ONE_DIM = (
    r"ShapeError: set_full: variable 'action': expected at least 2 dimension\(s\), got 1"
)

EXPECTED_FAILURES: dict[str, Expected] = {
    "test_gymnasium.py::test_gymnasium_agent": Expected(OBS_SHAPE, TODAY_OBS_SHAPE),
    **{scenario_id(i): layout_expected(*params) for i, params in enumerate(SCENARIOS)},
    "utils/test_replay_buffer.py::test_replay_buffer_put": Expected(ONE_DIM, TODAY_ONE_DIM),
    "utils/test_replay_buffer.py::test_replay_buffer_overflow": Expected(ONE_DIM, TODAY_ONE_DIM),
}


def bbrl_sdist() -> Path:
    """The bbrl 1.0.1 sdist: ``$BBRL_SDIST``, the cached copy, or a fresh download."""
    given = os.environ.get("BBRL_SDIST")
    if given:
        return Path(given)
    cached = CACHE / SDIST_NAME
    if cached.is_file():
        return cached
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--dest",
        str(CACHE),
        "bbrl==1.0.1",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0 or not cached.is_file():
        pytest.fail(
            "cannot obtain bbrl's sdist (its tests are not committed here): run\n  "
            + " ".join(command)
            + f"\nor set BBRL_SDIST to a copy of {SDIST_NAME}.\n{proc.stdout}{proc.stderr}"
        )
    return cached


@dataclass(frozen=True)
class Outcome:
    passed: bool
    failure: str  # message and traceback of a failure or error, "" when passed


def run_bbrl_tests(workdir: Path, on_reference: bool) -> dict[str, Outcome]:
    """Extract bbrl's two test files into ``workdir`` and run them; outcomes by test id."""
    with tarfile.open(bbrl_sdist()) as sdist:
        for name, digest in TEST_FILES.items():
            member = sdist.extractfile(f"bbrl-1.0.1/tests/{name}")
            assert member is not None, name
            data = member.read()
            assert hashlib.sha256(data).hexdigest() == digest, (
                f"bbrl's tests/{name} is not the file this harness was written against"
            )
            target = workdir / "tests" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # bbrl's tests need no plugin (nor our suite's)
    if on_reference:
        shim = workdir / "shim"
        for path, text in SHIM.items():
            (shim / path).parent.mkdir(parents=True, exist_ok=True)
            (shim / path).write_text(text)
        env["PYTHONPATH"] = str(shim)
    junit = workdir / "junit.xml"
    (workdir / "tests" / "pytest.ini").write_text("[pytest]\n")  # not the project's config
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={junit}",
            *TEST_FILES,
        ],
        cwd=workdir / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert junit.is_file(), proc.stdout + proc.stderr
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        problems = [c for c in case if c.tag in ("failure", "error")]
        failure = "\n".join((c.get("message") or "") + "\n" + (c.text or "") for c in problems)
        outcomes[test_id] = Outcome(not problems and case.find("skipped") is None, failure)
    return outcomes


@pytest.fixture(scope="module")
def on_reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    return run_bbrl_tests(tmp_path_factory.mktemp("bbrl-on-reference"), on_reference=True)


def test_bbrl_tests_pass_on_bbrl(tmp_path: Path) -> None:
    """The control: bbrl's own tests, unchanged, pass on bbrl 1.0.1 in this harness."""
    pytest.importorskip("bbrl")
    outcomes = run_bbrl_tests(tmp_path, on_reference=False)
    assert sorted(outcomes) == sorted(BBRL_TESTS)
    failed = {k: o.failure[:300] for k, o in outcomes.items() if not o.passed}
    assert not failed, failed


def test_every_bbrl_test_is_accounted_for(on_reference: dict[str, Outcome]) -> None:
    assert sorted(on_reference) == sorted(BBRL_TESTS)
    assert set(EXPECTED_FAILURES) <= set(BBRL_TESTS)


@pytest.mark.parametrize("test_id", BBRL_TESTS)
def test_bbrl_test_on_the_reference(on_reference: dict[str, Outcome], test_id: str) -> None:
    """Passes, or fails exactly as :data:`EXPECTED_FAILURES` says and for that reason."""
    outcome = on_reference[test_id]
    expected = EXPECTED_FAILURES.get(test_id)
    if expected is None:
        assert outcome.passed, f"{test_id} fails on the reference:\n{outcome.failure[:3000]}"
        return
    assert not outcome.passed, (
        f"{test_id} now passes on the reference: remove it from EXPECTED_FAILURES "
        f"(listed because: {expected.reason})"
    )
    assert re.search(expected.match, outcome.failure), (
        f"{test_id} fails for another reason than the one listed ({expected.reason}); its "
        f"failure does not match {expected.match!r}:\n{outcome.failure[:3000]}"
    )


README = ROOT / "conformance" / "README.md"
README_ROW = re.compile(r"^\| `(?P<test>[^`]+)` \| (?P<why>.*) \|$")
CLAUSE_OR_DEVIATION = re.compile(r"\b(?:[A-Z]{2,3}-\d+|B\d+)\b")


def test_readme_table_names_each_test_and_its_reasons() -> None:
    """conformance/README.md's table of bbrl's own tests has one row per test, "passes" for a
    test not in EXPECTED_FAILURES, and otherwise the clause IDs and B-numbers of its reason."""
    text = README.read_text()
    section = text[text.index("### bbrl's own tests against the reference") :]
    rows = {
        match["test"]: match["why"]
        for line in section.splitlines()
        if (match := README_ROW.match(line))
    }
    assert sorted(rows) == sorted(BBRL_TESTS)
    for test_id, why in rows.items():
        expected = EXPECTED_FAILURES.get(test_id)
        if expected is None:
            assert why == "passes", (test_id, why)
            continue
        named = set(CLAUSE_OR_DEVIATION.findall(why))
        assert named == set(CLAUSE_OR_DEVIATION.findall(expected.reason)), (test_id, named)
