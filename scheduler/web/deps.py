"""Request dependencies: the one way a request opens a unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from scheduler.clock import Clock
from scheduler.services.unit import Unit, unit_of_work


def get_engine_dep(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_unit(request: Request) -> Iterator[Unit]:
    actor = request.headers.get("X-Dosing-User") or request.app.state.settings.user
    with unit_of_work(request.app.state.engine, actor, request.app.state.clock) as unit:
        yield unit


UnitDep = Annotated[Unit, Depends(get_unit)]
ClockDep = Annotated[Clock, Depends(get_clock)]
EngineDep = Annotated[Engine, Depends(get_engine_dep)]
