"""The core never imports Streamlit, so everything is reachable from tests and the CLI."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
CORE = sorted(
    ".".join(p.relative_to(ROOT / "restore").with_suffix("").parts)
    for p in (ROOT / "restore").rglob("*.py")
    if p.stem != "__main__"
    and p.parts[-2] not in ("ui", "views", "migrations", "versions")
    and p.stem != "__init__"
)


def test_core_modules_import_without_streamlit():
    code = "import sys; sys.modules['streamlit'] = None\n" + "".join(
        f"import restore.{name}\n" for name in CORE
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_domain_and_access_use_the_standard_library_only():
    code = (
        "import sys, restore.domain, restore.access\n"
        "bad = [m for m in ('sqlalchemy', 'pandas', 'plotly') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
