"""tools/docs.py, which runs every ```python block of docs/ in CI (nox -s docs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS_TOOL = ROOT / "tools" / "docs.py"
sys.path.insert(0, str(ROOT / "tools"))
import docs  # noqa: E402

PAGE = """# A page

```python
import asyncio
counter = 1
```

Text between blocks.

<!-- no-run -->
```python
this is only a fragment(
```

1. A block inside a list keeps working when indented:

    ```python
    counter += 1
    ```

```python
await asyncio.sleep(0)  # top-level await
assert counter == 2
print("page ok")
```

```bash
echo not python
```
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DOCS_TOOL), "--python", sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_blocks_are_found_in_order_and_the_marker_opts_out(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    found = docs.blocks(page)
    assert [b.run for b in found] == [True, False, True, True]
    assert found[2].code == "counter += 1\n"  # dedented
    assert found[0].line == 4  # the first code line


def test_a_page_runs_as_one_session(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    result = run("-v", str(page))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "page ok" in result.stdout
    assert "docs: 1 passed, 0 failed" in result.stdout
    assert "1 marked no-run" in result.stdout


def test_every_failing_block_is_reported_with_its_line(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text("```python\nundefined_name\n```\n\n```python\nraise ValueError('x')\n```\n")
    result = run(str(page))
    assert result.returncode == 1
    assert f"{page}:2: this block failed" in result.stdout
    assert f"{page}:6: this block failed" in result.stdout
    assert "NameError" in result.stdout
    assert "ValueError: x" in result.stdout
    assert "docs: 0 passed, 1 failed" in result.stdout
