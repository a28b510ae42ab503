"""Importing precomputed_core is cheap and core knows no concrete plugin."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def test_import_is_lazy():
    code = "import sys, json; import precomputed_core; print(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    for heavy in ("multiprocessing.shared_memory", "concurrent.futures.process","precomputed_drivers", "precomputed_codecs", "fsspec", "PIL", "tqdm",
                  "compressed_segmentation", "intern", "tensorstore", "cloudvolume", "dask", "distributed",
                  "tinybrain"):  # fmt: skip
        assert heavy not in loaded, f"importing precomputed_core imported {heavy}"
    assert "importlib.metadata" not in loaded or "precomputed_core.plugins._manager" in loaded


def test_entry_points_not_scanned_at_import():
    code = (
        "import precomputed_core.plugins._manager as m, precomputed_core; "
        "print(m._cached_state.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (SRC / package).rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_core_imports_no_plugin_package():
    bad = {
        m for m in _imports("precomputed_core") if m.startswith(("precomputed_drivers", "precomputed_codecs"))
    }
    assert bad == set()


def test_plugins_use_only_public_core_api():
    allowed = {"precomputed_core", "precomputed_core.plugins", "precomputed_core.exceptions",
               "precomputed_core.testing"}  # fmt: skip
    for package in ("precomputed_drivers", "precomputed_codecs"):
        used = {m for m in _imports(package) if m.startswith("precomputed_core")}
        assert used <= allowed, f"{package} imports private core modules: {used - allowed}"
        other = "precomputed_codecs" if package == "precomputed_drivers" else "precomputed_drivers"
        assert not {m for m in _imports(package) if m.startswith(other)}


def test_every_layer_of_core_says_what_it_holds_and_may_import():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    config = tomllib.loads((SRC.parent / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    layers = [name.strip() for layer in contract["layers"] for name in layer.split("|")]
    assert layers[-1] == "exceptions"
    packages = [name for name in layers if (SRC / "precomputed_core" / name).is_dir()]
    assert set(packages) == {"cli", "testing", "frontend", "tasks", "parallel", "image", "meshes", "skeletons", "cache", "format",
                             "plugins", "interfaces", "meta", "geometry"}  # fmt: skip
    for name in packages:
        doc = ast.get_docstring(ast.parse((SRC / "precomputed_core" / name / "__init__.py").read_text()))
        assert doc, f"precomputed_core.{name} has no docstring"
        assert "may import" in doc.lower(), (
            f"precomputed_core.{name}'s docstring does not say what it may import"
        )
