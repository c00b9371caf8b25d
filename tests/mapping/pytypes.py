"""Dataclasses that brine's typed-mapping tests (tests/test_mapping.cpp) map C++ structs to."""
import dataclasses
import datetime
from typing import Optional


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Layer:
    kind: str
    width: int
    dropout: Optional[float] = None


@dataclasses.dataclass
class Model:
    name: str
    layers: list
    params: dict
    tags: set
    created: datetime.datetime
    timeout: datetime.timedelta
    seed: Optional[int] = None
    origin: Optional[Point] = None


@dataclasses.dataclass(frozen=True)
class Frozen:
    label: str
    weights: tuple
