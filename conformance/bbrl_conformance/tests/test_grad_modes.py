"""WS-46 and RB-31: operations under ``torch.no_grad()`` and ``torch.inference_mode()``.

RL code runs its rollouts under one of these modes (``inference_mode`` is what torch advises for
acting) and its learning steps outside: a workspace or a buffer filled under a mode is then
copied, written, sampled and back-propagated through outside it. Each test here is a small
program in which some calls run under a mode; it must give what the same program gives with
no mode at all (the differential), and the programs with gradients must also give the
gradients computed here by hand. The program's source is the test and its reproducer: the
test runs exactly the text it prints.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import torch

from bbrl_conformance._assertions import expect, expect_equal_tensors
from bbrl_conformance._clauses import clause
from bbrl_conformance._strategies import DTYPES, ITEM_DTYPES

#: the modes a program's first phase runs under: id -> the ``with`` expression
MODES = {
    "no_grad": "torch.no_grad()",
    "inference_mode": "torch.inference_mode()",
}
PLAIN = "contextlib.nullcontext()"

#: Programs: source text run with ``MODE`` set to a context manager and ``impl`` to the
#: implementation; each leaves ``result``, a dict of tensors to compare.
EPOCH_LOOP = """\
ws = impl.Workspace()
with MODE:  # the rollout: 20 rows of a float32, a bfloat16 and an int64 variable
    for t in range(20):
        ws.set("obs", t, torch.full((3, 2), float(t)))
        ws.set("q", t, torch.full((3,), t / 4, dtype=torch.bfloat16))
        ws.set("a", t, torch.arange(3) + t)
ws.copy_n_last_steps(1)  # then, outside it, notebook 03's next epoch
for t in range(1, 5):
    ws.set("obs", t, torch.full((3, 2), -float(t)))
    ws.set("q", t, torch.full((3,), -t / 4, dtype=torch.bfloat16))
    ws.set("a", t, torch.arange(3) - t)
ws.set_full("a", ws.get_full("a") * 2)
ws.copy_time(from_time=0, to_time=2, n_steps=1)
result = {k: ws.get_full(k) for k in ws.keys()}
"""

GROWN_UNDER_MODE = """\
ws = impl.Workspace()
ws.set("x", 0, torch.zeros(2, dtype=torch.float64))  # made outside the mode
with MODE:  # grown under it (past any first allocation)
    for t in range(1, 40):
        ws.set("x", t, torch.full((2,), float(t), dtype=torch.float64))
    ws.set_full("y", torch.ones(40, 2, dtype=torch.int16))
    ws.set("z", 39, torch.full((2,), 0.5, dtype=torch.bfloat16))
    view = ws.get_full("y")
ws.set("x", 3, torch.full((2,), -1.0, dtype=torch.float64))  # outside again
ws.set("y", 40, torch.full((2,), 7, dtype=torch.int16))
ws.set("z", 39, torch.full((2,), -0.5, dtype=torch.bfloat16))
ws.copy_n_last_steps(2, ["x", "z"])
result = {k: ws.get_full(k) for k in ws.keys()}
result["view"] = view
"""

DERIVED = """\
ws = impl.Workspace()
for t in range(4):
    ws.set("env/done", t, torch.tensor([t == 3, False]))
    ws.set("r", t, torch.tensor([float(t), 10.0 + t]))
with MODE:  # workspaces made from ws under the mode
    copy = impl.Workspace(ws)
    sub = ws.subtime(1, 3)
    picked = ws.select_batch(torch.tensor([1]))
    pairs = ws.get_transitions()
result = {}
for name, made in (("copy", copy), ("sub", sub), ("picked", picked), ("pairs", pairs)):
    made.set("r", 0, made.get("r", 0) + 100)  # written outside the mode
    made.copy_n_last_steps(1)
    for k in made.keys():
        result[f"{name}:{k}"] = made.get_full(k)
result["ws:r"] = ws.get_full("r")
"""

AGENT_EPOCHS = """\
class Writer(impl.Agent):
    def forward(self, t, **kwargs):
        self.set(("x", t), torch.full((2,), float(t)))
        self.set(("n", t), torch.tensor([t, -t]))
t_agent = impl.TemporalAgent(Writer())
ws = impl.Workspace()
with MODE:  # the first epoch's rollout
    t_agent(ws, t=0, n_steps=6)
for epoch in range(2):  # the next epochs, outside the mode
    ws.zero_grad()
    ws.copy_n_last_steps(1)
    t_agent(ws, t=1, n_steps=3)
result = {k: ws.get_full(k) for k in ws.keys()}
"""

BUFFER = """\
torch.manual_seed(0)
rb = impl.ReplayBuffer(6)
def items(first):
    ws = impl.Workspace()
    ws.set_full("x", torch.arange(first, first + 8, dtype=torch.float32).reshape(2, 4))
    ws.set_full("k", torch.arange(first, first + 8).reshape(2, 4))
    return ws
with MODE:  # filled and sampled under the mode
    rb.put(items(0))
    sample = rb.get_shuffled(3)
rb.put(items(100))  # then put to, sampled and written outside it
again = rb.get_shuffled(5)
sample.set("x", 0, torch.zeros(3))
sample.copy_n_last_steps(1)
result = {"size": torch.tensor(rb.size())}
for name, s in (("sample", sample), ("again", again)):
    for k in s.keys():
        result[f"{name}:{k}"] = s.get_full(k)
"""

BUFFER_RESTORED = """\
torch.manual_seed(0)
rb, copy = impl.ReplayBuffer(6), impl.ReplayBuffer(6)
ws = impl.Workspace()
ws.set_full("x", torch.arange(8, dtype=torch.float32).reshape(2, 4))
with MODE:  # filled, moved and restored under the mode
    rb.put(ws)
    rb.to("cpu")
    copy.load_state_dict(rb.state_dict())
copy.put(ws)  # then put to and sampled outside it
restored = copy.get_shuffled(4)
restored.set("x", 0, torch.zeros(4))
result = {"size": torch.tensor(copy.size()), "x": restored.get_full("x")}
"""

PROGRAMS = {
    "epoch-loop": ("WS-46", EPOCH_LOOP),
    "grown-under-mode": ("WS-46", GROWN_UNDER_MODE),
    "derived-workspaces": ("WS-46", DERIVED),
    "agent-epochs": ("WS-46", AGENT_EPOCHS),
    "replay-buffer": ("RB-31", BUFFER),
    "replay-buffer-restored": ("RB-31", BUFFER_RESTORED),
}


def _run(impl: Any, source: str, mode: str) -> dict[str, torch.Tensor]:
    namespace: dict[str, Any] = {"impl": impl, "torch": torch, "contextlib": contextlib}
    exec(source.replace("MODE", mode), namespace)
    return dict(namespace["result"])


def _repro(source: str, mode: str) -> str:
    return (
        "import contextlib\nimport torch\n\n"
        + source.replace("MODE", mode)
        + "for k, v in result.items():\n    print(k, v.tolist())\n"
    )


def _check_like_plain(impl: Any, clause_id: str, what: str, source: str, mode: str) -> None:
    """The differential: ``source`` with ``MODE`` the grad mode ``mode`` must run and leave the
    ``result`` it leaves with no mode at all; ``what`` names the program in messages."""
    __tracebackhide__ = True
    repro = _repro(source, MODES[mode])
    want = _run(impl, source, PLAIN)
    try:
        got = _run(impl, source, MODES[mode])
    except RuntimeError as exc:  # e.g. torch's "Inplace update to inference tensor"
        expect(
            False,
            clause_id,
            f"{what} with its first phase under {MODES[mode]} raised "
            f"{type(exc).__name__}: {exc} (it runs without the mode)",
            repro,
        )
        return
    expect(
        sorted(got) == sorted(want),
        clause_id,
        f"{what} with its first phase under {MODES[mode]}: results {sorted(got)}, "
        f"expected those of the program without it, {sorted(want)}",
        repro,
    )
    for key, value in want.items():
        expect_equal_tensors(
            got[key],
            value,
            clause_id,
            f"{what} with its first phase under {MODES[mode]}: {key} = "
            f"{got[key].tolist()}, expected {value.tolist()} (the program without it)",
            repro,
        )


@clause("WS-46", "RB-31")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("program", list(PROGRAMS))
def test_programs_under_a_grad_mode_give_the_plain_results(
    impl: Any, program: str, mode: str
) -> None:
    clause_id, source = PROGRAMS[program]
    _check_like_plain(impl, clause_id, f"program {program!r}", source, mode)


#: a variable read under the mode (a logging read, cloned: whether the tensor read changes
#: later is open), then edited under it, then written, edited and back-propagated through
#: outside it; DTYPE and EDIT are filled in by the test
EDIT_AFTER_READ = """\
ws = impl.Workspace()
for t in range(4):
    ws.set("x", t, torch.full((2,), t + 1, dtype=DTYPE))
with MODE:
    logged = ws.get_full("x").clone()  # a logging read, kept as read
    EDIT
ws.set("x", 1, torch.full((2,), 7, dtype=DTYPE))  # then, outside the mode
ws.copy_n_last_steps(2)
ws.set("x", 5, torch.full((2,), 9, dtype=DTYPE))
result = {"x": ws.get_full("x").detach(), "logged": logged}
if DTYPE.is_floating_point:  # the learning step: a product with a parameter
    w = torch.ones(2, dtype=DTYPE, requires_grad=True)
    (ws.get_full("x") * w).sum().backward()
    result["grad"] = w.grad
"""

EDITS = {
    "copy_n_last_steps": "ws.copy_n_last_steps(1)",
    "copy_time": "ws.copy_time(3, 0, 1)",
    "set": 'ws.set("x", 2, torch.full((2,), 5, dtype=DTYPE))',
    "set_full": 'ws.set_full("x", ws.get_full("x").flip(0))',
    "zero_grad": "ws.zero_grad()",
}


@clause("WS-46")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_an_edit_under_a_grad_mode_after_a_read(
    impl: Any, dtype: torch.dtype, edit: str, mode: str
) -> None:
    """Every dtype and every edit of a variable read just before, under the mode."""
    source = EDIT_AFTER_READ.replace("EDIT", EDITS[edit]).replace("DTYPE", str(dtype))
    _check_like_plain(impl, "WS-46", f"{EDITS[edit]} after a read ({dtype})", source, mode)


#: a buffer's storage made under the mode (by its first put, or by load_state_dict), then put
#: to (wrapping around) and sampled outside it; DTYPE and FILL are filled in by the test.
#: Which items a sample draws depends on the generator (RB-20 is a SHOULD): the program
#: compares the stored slots, and only whether every sampled item is a stored one.
FILLED_UNDER_MODE = """\
def items(first):
    ws = impl.Workspace()
    ws.set_full("x", (torch.arange(first, first + 6).reshape(2, 3) % 5).to(DTYPE))
    return ws
rb, source = impl.ReplayBuffer(4), impl.ReplayBuffer(4)
source.put(items(0))
with MODE:
    FILL
rb.put(items(10))  # outside the mode: wraps around into the storage made under it
stored = rb.variables["x"]
sample = rb.get_shuffled(6)["x"]
drawn_stored = all((stored == sample[:, j]).all(1).any() for j in range(6))
result = {"size": torch.tensor(rb.size()), "stored": stored, "drawn": torch.tensor(drawn_stored)}
"""

FILLS = {"put": "rb.put(items(0))", "load_state_dict": "rb.load_state_dict(source.state_dict())"}


@clause("RB-31", "RB-18")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", ITEM_DTYPES, ids=str)
def test_a_buffer_filled_under_a_grad_mode_of_every_dtype(
    impl: Any, dtype: torch.dtype, mode: str
) -> None:
    """Every dtype of RB-18: a buffer whose first put ran under the mode."""
    source = FILLED_UNDER_MODE.replace("FILL", FILLS["put"]).replace("DTYPE", str(dtype))
    _check_like_plain(impl, "RB-31", f"a first put of {dtype} items", source, mode)


@clause("RB-31", "RB-18")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", ITEM_DTYPES, ids=str)
def test_a_buffer_restored_under_a_grad_mode_of_every_dtype(
    impl: Any, dtype: torch.dtype, mode: str
) -> None:
    """Every dtype of RB-18: a buffer restored by ``load_state_dict`` under the mode."""
    source = FILLED_UNDER_MODE.replace("FILL", FILLS["load_state_dict"]).replace(
        "DTYPE", str(dtype)
    )
    _check_like_plain(impl, "RB-31", f"load_state_dict of {dtype} items", source, mode)


#: reads of a variable whose rows carry autograd history; none may drop that history for the
#: reads that follow (WS-9)
READS = {
    "get_full": 'ws.get_full("lp")',
    "getitem": 'ws["lp"]',
    "get_time_truncated": 'ws.get_time_truncated("lp", 0, 2)',
    "subtime": "ws.subtime(0, 2)",
    "copy": "impl.Workspace(ws)",
    "select_batch": "ws.select_batch(torch.tensor([0, 1]))",
}

BACKWARD = """\
w = torch.tensor(2.0, requires_grad=True)
ws = impl.Workspace()
for t in range(3):
    ws.set("lp", t, w * torch.ones(4) * (t + 1))
with MODE:  # a logging read
    READ
ws.get_full("lp").sum().backward()  # the loss, outside the mode
result = {"grad": w.grad}
"""


@clause("WS-46", "WS-9")
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("read", list(READS))
def test_a_read_under_a_grad_mode_keeps_the_history(impl: Any, read: str, mode: str) -> None:
    """The gradient of sum_t (t+1) * 4 * w over t = 0..2 is 24, whatever was read before."""
    source = BACKWARD.replace("READ", READS[read])
    repro = _repro(source, MODES[mode])
    try:
        got = _run(impl, source, MODES[mode])
    except RuntimeError as exc:  # backward() through a variable that lost its history
        expect(
            False,
            "WS-46",
            f"after {READS[read]} under {MODES[mode]}, ws.get_full('lp').sum().backward() "
            f"raised {type(exc).__name__}: {exc}",
            repro,
        )
        return
    expect_equal_tensors(
        got["grad"],
        torch.tensor(24.0),
        "WS-46",
        f"w.grad after {READS[read]} under {MODES[mode]} and backward(): {got['grad']}, "
        "expected 24 (sum over t of (t+1) * 4)",
        repro,
    )
