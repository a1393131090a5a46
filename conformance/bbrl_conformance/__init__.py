"""bbrl_conformance: the conformance suite for implementations of the BBRL core.

From a program or CI::

    import bbrl_conformance
    status = bbrl_conformance.run("my_package", areas=["WS", "RB"], report="report/")

``run`` returns the exit status (0: conformant in the claimed areas). ``REQUIRED_NAMES`` are the
names a complete implementation module exports, ``AREAS`` the parts of the core it can claim
(with the names each needs), and ``ConformanceFailure`` the exception every checked failure
raises (it names the clause and carries a reproducer).
"""

__version__ = "0.1.0"

from bbrl_conformance._failure import ConformanceFailure
from bbrl_conformance._impl import AREAS, REQUIRED_NAMES, Area, names_of
from bbrl_conformance._runner import check_implementation, run

__all__ = [
    "AREAS",
    "REQUIRED_NAMES",
    "Area",
    "ConformanceFailure",
    "__version__",
    "check_implementation",
    "names_of",
    "run",
]
