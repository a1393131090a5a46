"""Hostile inputs over the whole public API: calls a careless or hostile user makes.

Each *world* (``WorkspaceWorld``, ``AgentsWorld``, ``EnvWorld``, ``BufferWorld``) holds live
objects of the implementation under test, a model of what they must hold (the suite's models,
never the implementation), and a catalogue of call *generators*, each tagged with a census
*class* of bad input (``CLASSES``: wrong Python types, shapes, dtypes, devices, layouts, sizes,
NaN, views, names, files, wrong states) and with the area of the spec it exercises.

A generator draws one :class:`Call`: source code run in the world's namespace, and what the
spec allows for it. Exactly two outcomes are allowed: a correct result (checked against the
model), or an exception of the builtin type the spec names, with the object unchanged (its
full observable state compared before and after). Where the spec says nothing about an input
(a *gap*, listed in ``GAPS``), any typed builtin exception that is not an internal error is
accepted, with the object unchanged, and so is a success.

Every call is source text, so the world's log of calls is the reproducer of any failure.
``run_call`` runs one call and classifies its outcome; ``Tally`` counts outcomes per class
(the census of ``conformance/tools/hostile_census.py``).
"""

from bbrl_conformance._hostile._engine import (
    CLASSES as CLASSES,
)
from bbrl_conformance._hostile._engine import (
    FAILURES as FAILURES,
)
from bbrl_conformance._hostile._engine import (
    GAPS as GAPS,
)
from bbrl_conformance._hostile._engine import (
    VALID as VALID,
)
from bbrl_conformance._hostile._engine import (
    Call as Call,
)
from bbrl_conformance._hostile._engine import (
    Draw as Draw,
)
from bbrl_conformance._hostile._engine import (
    Outcome as Outcome,
)
from bbrl_conformance._hostile._engine import (
    Tally as Tally,
)
from bbrl_conformance._hostile._engine import (
    World as World,
)
from bbrl_conformance._hostile._engine import (
    run_call as run_call,
)
