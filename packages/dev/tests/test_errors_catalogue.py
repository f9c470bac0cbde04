"""pepperpy.dev.ERRORS: the code pepperpy-dev raises, with its meaning (issue 24)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.dev import ERRORS, progress


async def _numbers() -> AsyncIterator[int]:
    yield 1


def _bad_uses() -> list[object]:
    out = io.StringIO()
    return [
        lambda: progress(range(3), total=-1, file=out),
        lambda: progress(range(3), width=0, file=out),
        lambda: progress(range(3), desc=3, file=out),
        lambda: list(progress(_numbers(), file=out)),  # 'for' over an async source
        lambda: list(progress(file=out)),  # nothing to iterate
    ]


@pytest.mark.parametrize("index", range(5))
def test_progress_misuse_is_catalogued(index: int) -> None:
    """issue 24: every refused progress() use carries a code the catalogue documents."""
    with pytest.raises(InvalidArgumentError) as caught:
        _bad_uses()[index]()  # type: ignore[operator]
    assert caught.value.code == "pepperpy.dev.progress"
    entry = ERRORS[caught.value.code]
    assert isinstance(caught.value, entry.error)
    assert entry.meaning and entry.action
