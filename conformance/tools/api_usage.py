"""Count the call sites of bbrl 1.0.1's public API in real code (the counts of spec/surface.md).

Usage::

    python conformance/tools/api_usage.py NAME=DIR [NAME=DIR ...]

Each ``DIR`` is a corpus (``.py`` files and the code cells of ``.ipynb`` notebooks, found
recursively); the output is a Markdown table with one row per API item of :data:`ITEMS` and one
count column per corpus. Comments are removed before matching.

How an item is counted: a regular expression over the code (for methods whose name is common,
such as ``get`` or ``put``, only on receivers named like a workspace or a replay buffer, so the
counts of those rows are lower bounds), or, for keyword arguments, the number of calls of the
named function whose argument text contains the keyword. The counts are call sites, not
distinct files. spec/surface.md says which corpora it counted and at which versions.
"""

from __future__ import annotations

import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

# Receivers named like a workspace / a replay buffer (common method names are only counted
# on these).
WS = r"\b(?:\w*workspace\w*|ws|wp|\w*_ws|ws_\w*|\w*_wp|transitions?|shuffled|rb_workspace)"
RB = r"\b(?:\w*replay_buffer\w*|rb|\w*_rb|rb_\w*|\w*buffer)"


@dataclass(frozen=True)
class Item:
    """One API item: a label, and either a pattern or (function, keyword) to count."""

    label: str
    pattern: str = ""
    call: str = ""  # count calls of this name whose arguments contain `keyword`
    keyword: str = ""


ITEMS: tuple[Item, ...] = (
    # bbrl.workspace.Workspace
    Item("Workspace()", r"\bWorkspace\(\s*\)"),
    Item("Workspace(other)", r"\bWorkspace\(\s*[^)\s]"),
    Item("ws.set(name, t, v)", WS + r"\.set\("),
    Item("set/get/set_full/get_full(..., batch_dims=)", r"batch_dims\s*="),
    Item("ws.get(name, t)", WS + r"\.get\("),
    Item("ws.set_full(name, v)", WS + r"\.set_full\("),
    Item("ws.get_full(name)", WS + r"\.get_full\("),
    Item("ws[name]", WS + r"\[\s*(?:\"[^\"]*\"|'[^']*'|f\"[^\"]*\"|\w+)\s*\]"),
    Item("ws[name, name, ...]", r"\w\[\s*\n?\s*(?:\"[^\"]*\"|'[^']*'|f\"[^\"]*\")\s*,"),
    Item("ws.keys()", WS + r"\.keys\("),
    Item("ws.variables", WS + r"\.variables\b"),
    Item("ws.clear(...)", WS + r"\.clear\("),
    Item("ws.contiguous()", r"\.contiguous\(\s*\)"),
    Item("ws.time_size()", WS + r"\.time_size\("),
    Item("ws.batch_size()", WS + r"\.batch_size\("),
    Item("ws.select_batch(index)", r"\.select_batch\("),
    Item("ws.select_batch_n(n)", r"\.select_batch_n\("),
    Item("ws.copy_time(...)", r"\.copy_time\("),
    Item("ws.get_time_truncated(name, from, to)", WS + r"\.get_time_truncated\("),
    Item("ws.get_time_truncated_workspace(from, to)", r"\.get_time_truncated_workspace\("),
    Item("Workspace.cat_batch(list)", r"\.cat_batch\("),
    Item("ws.copy_n_last_steps(n)", r"\.copy_n_last_steps\("),
    Item("ws.copy_n_last_steps(n, var_names=)", call="copy_n_last_steps", keyword="var_names"),
    Item("ws.zero_grad()", WS + r"\.zero_grad\("),
    Item("ws.to(device)", WS + r"\.to\("),
    Item("ws.subtime(from, to)", r"\.subtime\("),
    Item("ws.remove_variable(name)", r"\.remove_variable\("),
    Item("ws.select_subtime(t, window)", r"\.select_subtime\("),
    Item("ws.sample_subworkspace(...)", r"\.sample_subworkspace\("),
    Item("ws.get_transitions()", r"\.get_transitions\("),
    Item("get_transitions(filter_key=)", call="get_transitions", keyword="filter_key"),
    Item("get_transitions(no_final_state=)", call="get_transitions", keyword="no_final_state"),
    Item("ws.is_shared", r"\.is_shared\b"),
    Item(
        "SlicedTemporalTensor / CompactTemporalTensor / CompactSharedTensor",
        r"\b(?:SlicedTemporalTensor|CompactTemporalTensor|CompactSharedTensor)\b",
    ),
    Item("take_per_row_strided", r"\btake_per_row_strided\b"),
    # bbrl.agents.agent
    Item("class X(Agent) (subclasses)", r"class\s+\w+\([^)]*\bAgent\b"),
    Item("Agent.__init__(name) / (name=...)", r"super\(\)\.__init__\(\s*name\b"),
    Item("Agent.__init__(verbose=...)", r"super\(\)\.__init__\([^)]*verbose\s*="),
    Item("def forward(self, t, ...)", r"def\s+forward\(\s*self\s*,\s*t\b"),
    Item("self.get((name, t))", r"self\.get\(\s*\("),
    Item("self.get(name) (full tensor)", r"self\.get\(\s*(?:\"|'|f\"|f')"),
    Item("self.set((name, t), v)", r"self\.set\(\s*\("),
    Item("self.set(name, v) (set_full)", r"self\.set\(\s*(?:\"|'|f\"|f')"),
    Item("self.workspace", r"self\.workspace\b"),
    Item("agent.seed(s)", r"(?<!random)\.seed\("),
    Item("agent.set_name(n)", r"\.set_name\("),
    Item("agent.get_name()", r"\.get_name\("),
    Item("self.name (the name property)", r"self\.name\b"),
    Item("agent.with_prefix(p) / self.prefix", r"\.with_prefix\(|self\.prefix\b"),
    Item("agent.set_trace_file(f)", r"\.set_trace_file\("),
    Item("agent.clone()", r"\.clone\(\s*\)\s*$"),
    Item("agent.is_running()", r"\.is_running\("),
    Item("agent.get_by_name(n)", r"\.get_by_name\("),
    Item("agent.save_model(f)", r"\.save_model\("),
    Item("agent.load_model(f)", r"\.load_model\("),
    Item("self.get_time_truncated(...) (agent)", r"self\.get_time_truncated\("),
    Item("KWAgentWrapper(agent, **kw)", r"\bKWAgentWrapper\("),
    Item("TimeAgent", r"\bTimeAgent\b"),
    Item("SerializableAgent / serialize / save / load", r"\bSerializableAgent\b|\.serialize\("),
    Item("SeedableAgent", r"\bSeedableAgent\b"),
    # bbrl.agents.utils
    Item("Agents(...)", r"\bAgents\("),
    Item("Agents(..., name=)", call="Agents", keyword="name"),
    Item("agents[k] / .agents", r"\.agents\b"),
    Item("TemporalAgent(agent)", r"\bTemporalAgent\("),
    Item("TemporalAgent(agent, name=)", call="TemporalAgent", keyword="name"),
    Item("t_agent(ws, ..., n_steps=)", r"\bn_steps\s*="),
    Item("t_agent(ws, ..., stop_variable=)", r"\bstop_variable\s*="),
    Item("TemporalAgent.agent", r"\w\.agent\.(?:get_by_name|agents|\w)"),
    Item("CopyTAgent", r"\bCopyTAgent\("),
    Item("PrintAgent", r"\bPrintAgent\("),
    Item("EpisodesDone", r"\bEpisodesDone\("),
    # bbrl.agents.gymnasium
    Item("make_env(name, ...)", r"\bmake_env\b"),
    Item("make_env(..., autoreset=)", call="make_env", keyword="autoreset"),
    Item("make_env(..., wrappers=)", call="make_env", keyword="wrappers"),
    Item("record_video(env, policy, path)", r"\brecord_video\("),
    Item("ParallelGymAgent(fn, n)", r"\bParallelGymAgent\("),
    Item("ParallelGymAgent(..., make_env_args=)", call="ParallelGymAgent", keyword="make_env_args"),
    Item("ParallelGymAgent(..., include_last_state=)", r"\binclude_last_state\s*="),
    Item("ParallelGymAgent(..., reward_at_t=)", r"\breward_at_t\s*="),
    Item("ParallelGymAgent(..., seed=)", call="ParallelGymAgent", keyword="seed"),
    Item("GymAgent(input_string= / output_string=)", r"\b(?:input|output)_string\s*="),
    Item("get_obs_and_actions_sizes()", r"\.get_obs_and_actions_sizes\("),
    Item("get_observation_space() / get_action_space()", r"\.get_(?:observation|action)_space\("),
    Item("is_continuous_action() / is_discrete_action()", r"\.is_(?:continuous|discrete)_action\("),
    Item("is_continuous_state() / is_discrete_state()", r"\.is_(?:continuous|discrete)_state\("),
    Item("env_agent.envs", r"\w(?:env|agent)\w*\.envs\b"),
    Item("GymAgent (subclass or name)", r"\bGymAgent\b"),
    Item("VecGymAgent", r"\bVecGymAgent\b"),
    # bbrl.utils.replay_buffer
    Item("ReplayBuffer(max_size)", r"\bReplayBuffer\("),
    Item("ReplayBuffer(..., device=)", call="ReplayBuffer", keyword="device"),
    Item("rb.put(ws)", RB + r"\.put\("),
    Item("rb.size()", RB + r"\.size\(\s*\)"),
    Item("rb.get_shuffled(n)", r"\.get_shuffled\("),
    Item("rb.to(device)", RB + r"\.to\("),
    Item("rb.is_full", RB + r"\.is_full\b"),
    Item("rb.variables", RB + r"\.variables\b"),
    Item("rb.position / rb.max_size", RB + r"\.(?:position|max_size)\b"),
    Item("rb.init_workspace / rb.print_obs", r"\.(?:init_workspace|print_obs)\("),
    # bbrl (top level)
    Item("instantiate_class(cfg)", r"\binstantiate_class\("),
    Item("get_class(cfg)", r"\bget_class\("),
    Item("get_arguments(cfg)", r"\bget_arguments\("),
)


def strip_comments(code: str) -> str:
    """The code without comments (tokenize; a cell it cannot parse loses only ``#...`` tails)."""
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(re.sub(r"#.*$", "", line) for line in code.splitlines())
    lines = code.splitlines(keepends=True)
    for tok in reversed(tokens):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            line = lines[row - 1]
            lines[row - 1] = line[:col] + line[tok.end[1] :]
    return "".join(lines)


def code_of(path: Path) -> str:
    """The Python code of a .py file, or of the code cells of a notebook (magics dropped)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        cells = json.loads(text).get("cells", [])
        parts = []
        for cell in cells:
            if cell.get("cell_type") == "code":
                source = "".join(cell.get("source", []))
                parts.append(
                    "\n".join(
                        line
                        for line in source.splitlines()
                        if not line.lstrip().startswith(("!", "%"))
                    )
                )
        text = "\n".join(parts)
    return strip_imports(strip_comments(text))


def strip_imports(code: str) -> str:
    """The code without import statements (names imported are not uses)."""
    code = re.sub(r"^\s*from\s+[\w.]+\s+import\s*\([^)]*\)", "", code, flags=re.MULTILINE)
    return re.sub(r"^\s*(?:from\s+[\w.]+\s+)?import\s+[^\n]*$", "", code, flags=re.MULTILINE)


def call_arguments(code: str, name: str) -> list[str]:
    """The argument text of every call ``name(...)`` and ``partial(name, ...)`` (balanced
    parentheses)."""
    found = []
    calls = r"\b" + re.escape(name) + r"\(|\bpartial\(\s*" + re.escape(name) + r"\s*,"
    for match in re.finditer(calls, code):
        depth, i = 1, match.end()
        while i < len(code) and depth:
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            i += 1
        found.append(code[match.end() : i - 1])
    return found


def count(item: Item, code: str) -> int:
    if item.call:
        keyword = re.compile(r"\b" + re.escape(item.keyword) + r"\s*=")
        return sum(1 for args in call_arguments(code, item.call) if keyword.search(args))
    return len(re.findall(item.pattern, code, flags=re.MULTILINE))


def corpus_code(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file())
    return "\n".join(code_of(p) for p in files)


def main(argv: list[str]) -> int:
    if not argv or any("=" not in a for a in argv):
        print(__doc__)
        return 2
    corpora = [
        (name, corpus_code(Path(folder))) for name, folder in (a.split("=", 1) for a in argv)
    ]
    print("| API | " + " | ".join(name for name, _ in corpora) + " |")
    print("|---|" + "---:|" * len(corpora))
    for item in ITEMS:
        counts = " | ".join(str(count(item, code)) for _, code in corpora)
        print(f"| `{item.label}` | {counts} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
