"""pepperpy.testing.ERRORS: the code pepperpy-testing raises, with its meaning (issue 24)."""

from __future__ import annotations

import math

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.testing import ERRORS, VirtualClock


@pytest.mark.parametrize("seconds", [-1, math.inf, math.nan, "60"])
def test_bad_virtual_time_steps_are_catalogued(seconds: object) -> None:
    """issue 24: advance() by a bad amount raises a code the catalogue documents."""
    clock = VirtualClock()

    async def main() -> None:
        await clock.advance(seconds)  # type: ignore[arg-type]

    with pytest.raises(InvalidArgumentError) as caught:
        clock.run(main())
    assert caught.value.code == "pepperpy.testing.virtual_time"
    entry = ERRORS[caught.value.code]
    assert isinstance(caught.value, entry.error)
    assert entry.meaning and entry.action
