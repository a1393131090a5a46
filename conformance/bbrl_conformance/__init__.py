"""bbrl_conformance: the conformance suite for implementations of the BBRL core."""
