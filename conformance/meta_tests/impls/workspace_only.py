"""A partial implementation: only the workspace and its transitions, declared by the module."""

from bbrl_reference import Workspace

__all__ = ["Workspace"]

CONFORMANCE_AREAS = ("WS", "TR")
