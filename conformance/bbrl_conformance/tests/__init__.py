"""The shipped conformance tests (run with ``python -m bbrl_conformance --impl MODULE``)."""
