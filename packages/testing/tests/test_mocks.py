"""Tests for async_autospec() and spy()."""

from __future__ import annotations

import pytest

from pepperpy.testing import async_autospec, spy


class Repo:
    async def get(self, key: str) -> str:
        return f"real:{key}"

    def count(self) -> int:
        return 1


async def test_autospec_checks_signatures_and_is_async():
    """Async methods are awaitable mocks; wrong arguments fail at the call."""
    repo = async_autospec(Repo)
    instance = repo.return_value
    instance.get.return_value = "fake"
    assert "fake" == await instance.get("k")
    instance.get.assert_awaited_once_with("k")
    with pytest.raises(TypeError):
        await instance.get("k", "unexpected")
    with pytest.raises(AttributeError):
        instance.nonexistent = 1


async def test_spy_records_and_delegates():
    """The real method runs; arguments, results and errors are recorded; it is restored."""
    repo = Repo()
    with spy(repo, "get") as get_spy:
        assert "real:a" == await repo.get("a")
        assert "real:b" == await repo.get(key="b")
    assert 2 == get_spy.call_count
    assert "real:a" == get_spy.calls[0].result
    get_spy.assert_called_with(key="b")
    assert "get" not in vars(repo)  # restored: the class method shows through again

    with spy(Repo, "count") as count_spy:
        assert 1 == Repo().count()
    assert 1 == count_spy.call_count
    assert 1 == Repo().count()


def test_spy_records_exceptions():
    """An exception is recorded and re-raised."""

    class Box:
        def boom(self) -> None:
            raise KeyError("x")

    box = Box()
    with spy(box, "boom") as boom, pytest.raises(KeyError):
        box.boom()
    assert isinstance(boom.calls[0].exception, KeyError)
    assert "raised" in repr(boom.calls[0])
    with pytest.raises(AssertionError, match="last call"):
        boom.assert_called_with(1)
