"""An example implementation module for the conformance suite: a core that has a workspace and
a replay buffer, but no agents and no env agent (a salina-style core).

What the suite reads from the module it is given with ``--impl``:

- the names of the areas it claims: here ``Workspace`` (areas WS and TR) and ``ReplayBuffer``
  (area RB), with bbrl's call shapes;
- ``CONFORMANCE_AREAS``: the areas it claims (``--areas`` overrides it); the others are reported
  as not claimed and their tests are not run;
- optionally ``IMPLEMENTATION_NAME``, ``__version__`` (shown in the report) and
  ``CONFORMANCE_DEVIATIONS`` (its default ledger of known deviations, a path or a shipped name).

A real implementation would import its own classes here (an adapter module, like
``bbrl_conformance/adapters/bbrl.py``); this example borrows the reference's so that it passes.
Run it from the folder holding this file::

    python -m bbrl_conformance --impl partial_core --deviations deviations.toml
"""

from bbrl_reference import ReplayBuffer as ReplayBuffer
from bbrl_reference import Workspace as Workspace

IMPLEMENTATION_NAME = "partial-core (example)"
__version__ = "0.0.1"
CONFORMANCE_AREAS = ("WS", "TR", "RB")
