"""ENV-36: the env agent takes "done at row t-1" from the workspace's ``env/done`` when the call
at ``t`` runs, instead of from what it wrote itself: right until another agent rewrites
``env/done`` between the calls. ``EpisodesDone()`` with its defaults does (a running OR, in
place), so in ``Agents(env_agent, EpisodesDone(), actor)`` every env resets at every step once
its first episode has ended. Found by a helper writing bugs from the spec; no test caught it."""

from __future__ import annotations

from typing import Any

from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["ENV-36"]
TESTS = "test_env_agent"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        workspace = self.workspace
        if type(t) is int and t > 0 and workspace is not None and self._refusal is None:
            try:
                done = workspace.get("env/done", t - 1).tolist()
            except Exception:  # no such row: the reference's own checks answer
                done = None
            if isinstance(done, list) and len(done) == self.num_envs:
                backend = self._backend
                if hasattr(backend, "_done"):  # the sync and async loops keep a list
                    backend._done[:] = [bool(d) for d in done]
                backend.rows.done[...] = done  # the vector backend's done row
        super().forward(t, **kwargs)
