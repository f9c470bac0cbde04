from __future__ import annotations

from collections.abc import Iterator

import pytest

from pepperpy import logging as plog


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    plog.shutdown()
