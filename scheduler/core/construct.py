"""Building the frozen dataclasses of a plan quickly.

A plan has about 25 frozen objects (cycles, visits, the plan itself). The ``__init__`` that
``dataclass(frozen=True)`` generates sets every field through ``object.__setattr__``, about 150 ns
a field, so a 15-field ``VisitPlan`` costs 2-3 us: more than all the date arithmetic of a visit,
and a large share of the time budget of a whole plan (10,000 plans a second).

``frozen_constructor`` returns a plain function that allocates an instance of a mutable twin
class with the same fields (hence the same slots and the same memory layout), stores each field
with an ordinary attribute assignment, and then gives the instance its real class. From then on
it is an ordinary instance of the frozen class: ``isinstance``, equality, hashing, repr,
pickling, ``dataclasses.asdict``/``replace`` and ``FrozenInstanceError`` on assignment all behave
as for one made by the class itself. It costs about a ninth of the generated ``__init__``, and
about a third less than calling the twin class (no ``type.__call__``, no ``__post_init__``
frame).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_LOCALS = ("_new", "_twin", "_cls", "_obj")
"""Names the generated function uses for itself; a field may not be called any of these."""


def frozen_constructor(cls: type[T]) -> Callable[..., T]:
    """A constructor for the frozen slots dataclass ``cls`` taking every field positionally.

    All fields are passed, in declaration order, defaults included. Types are not checked at
    run time (nor are they by the generated ``__init__``).
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    names = [field.name for field in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if set(names) & set(_LOCALS):
        raise TypeError(f"{cls.__name__} has a field named like one of {_LOCALS}")
    twin: Any = dataclasses.make_dataclass(
        f"_{cls.__name__}Builder",
        [(field.name, field.type) for field in dataclasses.fields(cls)],  # type: ignore[arg-type]
        slots=True,
        init=False,
        eq=False,
        repr=False,
    )
    if twin.__slots__ != cls.__dict__["__slots__"]:
        raise TypeError(f"{cls.__name__} has slots of its own; no twin has its layout")
    # Generated, as dataclasses generates __init__: one assignment per field, in line.
    lines = [f"def make_{cls.__name__}({', '.join(names)}):", "    _obj = _new(_twin)"]
    lines += [f"    _obj.{name} = {name}" for name in names]
    lines += ["    _obj.__class__ = _cls", "    return _obj"]
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    exec("\n".join(lines), namespace)  # the source is built from field names only
    make: Callable[..., T] = namespace[f"make_{cls.__name__}"]
    make.__qualname__ = f"frozen_constructor.<{cls.__name__}>"
    return make
