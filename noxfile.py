"""The test matrix. Plain ``nox`` runs tests (every Python), interop and lint.

``nox -s bench`` (benchmarks against the peers) and ``nox -s docs`` run on demand.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ORACLE_PYTHON = "3.11"
# The oracles are pinned: their results are the reference, so they change only on purpose.
ORACLES = ["tensorstore==0.1.86", "cloud-volume==12.15.2"]

nox.options.sessions = ["tests", "interop", "lint"]
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = False


def _enable_pyenv_interpreters() -> None:
    """Make pyenv's python3.X shims resolve (they fail unless the version is active)."""
    if "PYENV_VERSION" in os.environ or shutil.which("pyenv") is None:
        return
    out = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False)
    installed = out.stdout.split()
    chosen = []
    for wanted in PYTHONS:
        matches = [v for v in installed if v.startswith(wanted + ".") and v.replace(".", "").isdigit()]
        if matches:
            chosen.append(max(matches, key=lambda v: tuple(int(p) for p in v.split("."))))
    if chosen:
        os.environ["PYENV_VERSION"] = ":".join(chosen)


_enable_pyenv_interpreters()

LOOPBACK_ENV = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit and local-disk tests, doctests and the plugin tests."""
    session.install("-e", ".[test]")
    session.run(
        "pytest", "tests/unit", "src", "-m", "not interop", "-q", "-rs", *session.posargs, env=LOOPBACK_ENV
    )


@nox.session(python=ORACLE_PYTHON)
def interop(session: nox.Session) -> None:
    """Write with us and read with tensorstore and cloud-volume, and the reverse."""
    session.install("-e", ".[test]", *ORACLES)
    session.run("pytest", "tests/interop", "-m", "interop", "-q", "-rs", *session.posargs, env=LOOPBACK_ENV)


@nox.session(python=ORACLE_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict, and the import-layering contracts."""
    session.install("-e", ".[lint,test]", "typing_extensions")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy")
    session.run("lint-imports")
    # Plugins may use only core's public API: precomputed_core, .plugins, .exceptions, .testing.
    session.run(
        "python",
        "-c",
        "import pathlib, re, sys; bad = [f'{p}:{n}' for d in ('src/precomputed_drivers', "
        "'src/precomputed_codecs') for p in pathlib.Path(d).rglob('*.py') for n, line in "
        "enumerate(p.read_text().splitlines(), 1) if re.search(r'precomputed_core\\._', line)]; "
        "print('\\n'.join(bad)); sys.exit(1 if bad else 0)",
    )


@nox.session(python=ORACLE_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the Markdown docs with mkdocs (strict: broken links fail)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=ORACLE_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with the peers; writes docs/benchmarks.md."""
    session.install("-e", ".", *ORACLES)
    session.run("python", "benchmarks/run.py", *session.posargs)
