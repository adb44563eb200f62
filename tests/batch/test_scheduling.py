"""The batch runner hands the largest files to the executor first (no lone straggler at the end)."""

from __future__ import annotations

from pathlib import Path

from greenopt.batch.discovery import DiscoveredFile
from greenopt.batch.runner import largest_first


def test_largest_files_first_ties_and_unreadable_in_discovery_order(tmp_path: Path) -> None:
    sizes = {"a.py": 10, "b.py": 300, "c.py": 10, "d.py": 50}
    for name, size in sizes.items():
        (tmp_path / name).write_text("#" * (size - 1) + "\n")
    files = [DiscoveredFile(str(tmp_path / n), str(tmp_path)) for n in [*sizes, "gone.py"]]
    ordered = [Path(f.path).name for f in largest_first(files)]
    assert ordered == ["b.py", "d.py", "a.py", "c.py", "gone.py"]
