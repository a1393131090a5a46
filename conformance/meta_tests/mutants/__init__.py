"""Deliberately broken implementations (the mutant zoo), each wrapping the reference.

Each module sets ``KILLED_BY``: the clause IDs whose tests must fail against it. The meta test
``test_mutants.py`` runs the suite's tests citing those clauses and checks each one fails.
"""
