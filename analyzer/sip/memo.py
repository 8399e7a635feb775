"""Bounded memoisation for pure functions of one header value.

Within a capture the same From, To, Via and Contact values recur in every
message of a call, so their checks and typed readers are memoised. Both the
number of entries and the length of a cached value are bounded: a hostile
capture with huge header values must not grow the tables without limit.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 4096
"""Entries per memoised function."""
MAX_VALUE_LENGTH = 512
"""Longer values are computed every time, never stored."""

_ALL: list[Memo[object]] = []


class Memo(Generic[T]):
    """A pure `str -> T` function with a bounded cache in front of it."""

    def __init__(self, fn: Callable[[str], T]) -> None:
        self._fn = fn
        self._cached = lru_cache(maxsize=MAX_ENTRIES)(fn)
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        _ALL.append(self)  # type: ignore[arg-type]

    def __call__(self, value: str) -> T:
        if len(value) > MAX_VALUE_LENGTH:
            return self._fn(value)
        return self._cached(value)

    def cache_clear(self) -> None:
        """Forget every stored result."""
        self._cached.cache_clear()


def memoised(fn: Callable[[str], T]) -> Memo[T]:
    """Decorator: memoise a pure function of one string."""
    return Memo(fn)


def clear_all() -> None:
    """Empty every table (benchmarks measure cold starts with it)."""
    for memo in _ALL:
        memo.cache_clear()


__all__ = ["MAX_ENTRIES", "MAX_VALUE_LENGTH", "Memo", "clear_all", "memoised"]
