"""Building the frozen dataclasses of a plan quickly.

A plan has about 25 frozen objects (cycles, visits, the plan itself). The ``__init__`` that
``dataclass(frozen=True)`` generates sets every field through ``object.__setattr__``, about 150 ns
a field, so a 15-field ``VisitPlan`` costs 2-3 us: more than all the date arithmetic of a visit,
and a large share of the time budget of a whole plan (10,000 plans a second).

``frozen_constructor`` returns a mutable twin class with the same fields (hence the same slots
and the same memory layout) whose ``__post_init__`` gives each new instance its real class. From
then on it is an ordinary instance of the frozen class: ``isinstance``, equality, hashing, repr,
pickling, ``dataclasses.asdict``/``replace`` and ``FrozenInstanceError`` on assignment all behave
as for one made by the class itself. It costs about a fifth of the generated ``__init__``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def frozen_constructor(cls: type[T]) -> Callable[..., T]:
    """A constructor for the frozen slots dataclass ``cls`` taking every field positionally.

    All fields are passed, in declaration order, defaults included. Types are not checked at
    run time (nor are they by the generated ``__init__``).
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")

    def become_frozen(self: Any) -> None:
        self.__class__ = cls

    twin: Any = dataclasses.make_dataclass(
        f"_{cls.__name__}Builder",
        [(field.name, field.type) for field in dataclasses.fields(cls)],  # type: ignore[arg-type]
        namespace={"__post_init__": become_frozen},
        slots=True,
        eq=False,
        repr=False,
    )
    if twin.__slots__ != cls.__dict__["__slots__"]:
        raise TypeError(f"{cls.__name__} has slots of its own; no twin has its layout")
    return twin  # type: ignore[no-any-return]
