"""A quicker `__init__` for the frozen, slotted dataclasses `assess` makes for every pregnancy.

Why (measured, CPython 3.11): a frozen dataclass's generated `__init__` must go around the
class's own `__setattr__` (which refuses), so it sets each field with
`object.__setattr__(self, name, value)`, about 0.2 us a field on the benchmark machine: 4.4 us
for a `Recommendation`'s 14 fields, some 10 us of every assessment. Setting each slot through
its own descriptor (`Recommendation.code.__set__(self, value)`, which is what
`object.__setattr__` does once it has looked the name up) costs 2.8 us for the 14.

`quick_init` gives a class such an `__init__`, with the parameters, order and defaults of the
one `dataclass` wrote. Nothing else changes: the objects are the same, still frozen
(assignment raises `FrozenInstanceError`), `replace`, `repr`, `==` and pickling as before
(tests/unit/clinical/test_frozen.py). It takes only the plain case, and refuses any class it
could not give the same `__init__` (a default factory, `__post_init__`, a field outside
`__init__` or keyword-only).

(A `make` function beside it, which built the object without calling the class, saved a
further 1% of an assessment and was dropped in session 23: mypyc, which compiles `clinical/`
for production, cannot compile the `ClassVar` it was declared with.)
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass an `__init__` that sets its slots directly."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not call __post_init__")
    parameters: list[str] = []
    lines: list[str] = []
    values: dict[str, Any] = {}
    for i, field in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        if not field.init or field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init takes plain fields only")
        setter = f"set_{i}"
        values[setter] = cls.__dict__[field.name].__set__
        if field.default is dataclasses.MISSING:
            parameters.append(field.name)
        else:
            values[f"default_{i}"] = field.default
            parameters.append(f"{field.name}=default_{i}")
        lines.append(f"        {setter}(self, {field.name})")
    body = "\n".join(lines) + "\n"
    source = (
        f"def __create__({', '.join(values)}):\n"
        f"    def __init__(self, {', '.join(parameters)}):\n"
        f"{body}        return None\n"
        "    return __init__\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<quick_init {cls.__qualname__}>", "exec"), namespace)
    init = namespace["__create__"](**values)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
