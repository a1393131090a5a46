"""bbrl's configuration helpers: classes named in configuration mappings (AG-22..AG-24).

A configuration entry names a callable by its dotted path and gives its keyword arguments::

    {"classname": "torch.optim.Adam", "lr": 0.001}

``bbrl_utils`` and ``bbrl_algos`` build optimizers, loggers and env factories this way, from
plain dicts or OmegaConf ``DictConfig`` objects (mappings that also allow ``cfg.classname``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from . import _validation as v
from ._errors import ClassNotFoundError, InvalidArgumentError, MissingKeyError

_MISSING = object()


def get_class(arguments: object) -> Any:
    """The attribute named by ``arguments["classname"]`` (or ``arguments.classname``), a class
    or a callable in the usual case (AG-22)."""
    op = "get_class"
    if isinstance(arguments, Mapping):
        if "classname" not in arguments:
            raise MissingKeyError(
                v.message(op, "argument 'arguments'", "a key 'classname'", sorted(arguments))
            )
        classname = arguments["classname"]
    else:
        classname = getattr(arguments, "classname", _MISSING)
        if classname is _MISSING:
            raise AttributeError(
                v.message(
                    op, "argument 'arguments'", "a mapping or an attribute 'classname'", arguments
                )
            )
    parts = classname.split(".") if isinstance(classname, str) else []
    if len(parts) < 2 or not all(parts):  # AG-24, AG-27: no dot, or an empty part
        raise InvalidArgumentError(
            v.message(op, "'classname'", "a dotted path such as 'torch.optim.Adam'", classname)
        )
    module_path, name = classname.rsplit(".", 1)
    module = importlib.import_module(module_path)  # ModuleNotFoundError is an ImportError
    if not hasattr(module, name):
        raise ClassNotFoundError(
            v.message(op, "'classname'", f"a name defined by module {module_path!r}", classname)
        )
    found: Any = getattr(module, name)  # AG-22: whatever the module holds under that name
    return found


def get_arguments(arguments: Mapping[str, object]) -> dict[str, object]:
    """The items of ``arguments`` but ``classname``, as a new dict (AG-23)."""
    if not isinstance(arguments, Mapping):
        raise TypeError(
            v.message(
                "get_arguments", "argument 'arguments'", "a mapping", type(arguments).__name__
            )
        )
    return {key: value for key, value in arguments.items() if key != "classname"}


def instantiate_class(arguments: Mapping[str, object]) -> object:
    """``get_class(arguments)(**get_arguments(arguments))`` (AG-23)."""
    keywords = get_arguments(arguments)
    found = get_class(arguments)
    if not callable(found):
        raise TypeError(
            v.message("instantiate_class", "'classname'", "a class or callable", type(found))
        )
    return found(**keywords)
