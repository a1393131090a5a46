"""bbrl's configuration helpers: classes named in configuration mappings (AG-22..AG-24).

A configuration entry names a callable by its dotted path and gives its keyword arguments::

    {"classname": "torch.optim.Adam", "lr": 0.001}

``bbrl_utils`` and ``bbrl_algos`` build optimizers, loggers and env factories this way, from
plain dicts or OmegaConf ``DictConfig`` objects (mappings that also allow ``cfg.classname``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from . import _validation as v
from ._errors import ClassNotFoundError, InvalidArgumentError, MissingKeyError

_MISSING = object()


def get_class(arguments: object) -> Callable[..., object]:
    """The callable named by ``arguments["classname"]`` (or ``arguments.classname``) (AG-22)."""
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
    found: object = getattr(module, name)
    if not callable(found):
        raise TypeError(v.message(op, "'classname'", "a class or callable", classname))
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
    return get_class(arguments)(**keywords)
