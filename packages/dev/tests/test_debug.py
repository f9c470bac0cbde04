"""Tests for debug(), format_exception() and install_excepthook()."""

from __future__ import annotations

import io
import sys

import pytest

from pepperpy.dev import debug, format_exception, install_excepthook, redact_text


class TestDebug:
    def test_prints_expression_value_and_location(self):
        """Each argument is shown with its source text; the value is returned."""
        out = io.StringIO()
        items = [1, 2, 3]
        assert 3 == debug(len(items), file=out)
        text = out.getvalue()
        assert "test_debug.py:" in text
        assert "len(items) = 3" in text

    def test_several_arguments_and_multiline_call(self):
        """Several arguments come back as a tuple; multi-line calls are parsed."""
        out = io.StringIO()
        a, b = 1, "x"
        result = debug(
            a,
            b,
            file=out,
        )
        assert (1, "x") == result
        assert "a = 1, b = 'x'" in out.getvalue()

    def test_switched_off_by_environment(self, monkeypatch):
        """PEPPERPY_DEBUG=0 silences it."""
        monkeypatch.setenv("PEPPERPY_DEBUG", "0")
        out = io.StringIO()
        assert 5 == debug(5, file=out)
        assert "" == out.getvalue()

    def test_redacts_secret_names(self):
        """A secret-looking expression's value is masked."""
        out = io.StringIO()
        api_key = "sk-123456"
        debug(api_key, file=out)
        assert "sk-123456" not in out.getvalue()
        assert "api_key = '***'" in out.getvalue()
        out2 = io.StringIO()
        debug(api_key, file=out2, redact=False)
        assert "sk-123456" in out2.getvalue()


class TestRedact:
    @pytest.mark.parametrize(
        ("text", "hidden"),
        [
            ("password=hunter2", "hunter2"),
            ("{'token': 'abc.def'}", "abc.def"),
            ("Authorization: Bearer eyJhbGciOi.xyz", "eyJhbGciOi"),
            ("db_password = 's3cret'", "s3cret"),
            ("API_KEY: k-999", "k-999"),
        ],
    )
    def test_masks(self, text, hidden):
        """Values of secret-looking keys and bearer credentials are masked."""
        masked = redact_text(text)
        assert hidden not in masked
        assert "***" in masked

    def test_leaves_ordinary_text(self):
        """Text without secrets is unchanged."""
        assert "user=bob count=3" == redact_text("user=bob count=3")


def _raise_through_library() -> None:
    import json

    json.loads("{bad json, password=hunter2}")


class TestFormatException:
    def test_folds_library_frames_and_masks(self):
        """stdlib frames are folded into a count; the secret in the message is masked."""
        with pytest.raises(ValueError) as info:
            _raise_through_library()
        text = format_exception(info.value)
        assert "_raise_through_library" in text
        assert "library frame" in text and "hidden" in text
        assert "json/decoder.py" not in text
        full = format_exception(info.value, hide_libraries=False)
        assert "json" in full and "decoder.py" in full

    def test_chained_causes_in_order(self):
        """The cause comes first, then the link sentence, then the outer error."""
        try:
            try:
                raise KeyError("inner")
            except KeyError as exc:
                raise RuntimeError("outer") from exc
        except RuntimeError as exc:
            text = format_exception(exc)
        assert text.index("KeyError") < text.index("direct cause") < text.index("RuntimeError")

    def test_excepthook_install_and_undo(self, capsys):
        """The installed hook prints the pretty format; undo restores the previous hook."""
        previous = sys.excepthook
        undo = install_excepthook()
        try:
            try:
                raise ValueError("token=abcdef")
            except ValueError as exc:
                sys.excepthook(type(exc), exc, exc.__traceback__)
        finally:
            undo()
        assert previous is sys.excepthook
        err = capsys.readouterr().err
        assert "ValueError" in err and "abcdef" not in err
