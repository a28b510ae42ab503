"""The test matrix. Plain ``nox`` runs every session but ``docs`` and ``bench``:

- ``tests``: unit tests and the backend tests on local disk, on Python 3.10 to 3.13;
- ``s3``, ``gcs``, ``http``: the same backend tests against moto's S3 server,
  fake-gcs-server and a loopback HTTP server (started by the tests on 127.0.0.1);
- ``interop``: against tensorstore and cloud-volume;
- ``lowest``: the unit and backend tests with the lowest numpy, fsspec, s3fs and gcsfs
  we support, on Python 3.10;
- ``lint``.

``nox -s bench`` (benchmarks against the peers), ``nox -s docs`` and
``nox -s cloudvolume_suite -- PATH`` (cloud-volume's own tests against us, from a
cloud-volume checkout at PATH) run on demand.
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

BACKEND_PYTHON = "3.11"
# The lowest versions pyproject.toml allows, tried together (s3fs and gcsfs pin their fsspec).
LOWEST = [
    "numpy==1.26.4",
    "fsspec==2024.2.0",
    "s3fs==2024.2.0",
    "gcsfs==2024.2.0",
    "mmh3==4.0.0",
    "DracoPy==1.4.2",
    "google-crc32c==1.5.0",
    "compresso==3.0.0",
    "crackle-codec==0.50.0",
]

nox.options.sessions = ["tests", "s3", "gcs", "http", "interop", "lowest", "lint"]
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

LOOPBACK_ENV = {
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
    # No test may reach a cloud metadata server looking for default credentials.
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_GCE_CHECK": "True",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
    # gcsfs's "extended" class asks a gRPC API that emulators cannot answer (we use the core class).
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
}


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit tests, doctests, the plugin tests, and the backend tests on local disk."""
    session.install("-e", ".[test]")
    local = "not interop and not s3 and not gcs and not http"
    paths = ["tests/unit", "src", "tests/integration"]
    session.run("pytest", *paths, "-m", local, "-q", "-rs", *session.posargs, env=LOOPBACK_ENV)


def _backend(session: nox.Session, marker: str) -> None:
    session.install("-e", ".[test,emulators]")
    session.run("pytest", "tests/integration", "-m", marker, "-q", "-rs", *session.posargs, env=LOOPBACK_ENV)


@nox.session(python=BACKEND_PYTHON)
def s3(session: nox.Session) -> None:
    """The backend tests against moto's S3 server, with fault injection and credentials files."""
    _backend(session, "s3")


@nox.session(python=BACKEND_PYTHON)
def gcs(session: nox.Session) -> None:
    """The backend tests against fake-gcs-server."""
    _backend(session, "gcs")


@nox.session(python=BACKEND_PYTHON)
def http(session: nox.Session) -> None:
    """The backend tests, read over a loopback HTTP server."""
    _backend(session, "http")


@nox.session(python="3.10")
def lowest(session: nox.Session) -> None:
    """Unit and backend tests with the lowest supported numpy, fsspec, s3fs and gcsfs."""
    session.install("-e", ".[test,emulators]", *LOWEST)
    session.run("pytest", "tests/unit", "src", "tests/integration", "-m", "not interop", "-q", "-rs",
                "-p", "no:cacheprovider", *session.posargs, env=LOOPBACK_ENV)  # fmt: skip


def _install_with_oracles(session: nox.Session, project: str) -> None:
    # Two steps: in one, pip's resolver (pip 23) backtracks through every gcsfs and s3fs
    # release next to cloud-volume's requirements and gives up; the second step keeps the
    # first one's versions, which cloud-volume accepts.
    session.install("-e", project)
    session.install(*ORACLES)


@nox.session(python=ORACLE_PYTHON)
def interop(session: nox.Session) -> None:
    """Write with us and read with tensorstore and cloud-volume, and the reverse."""
    _install_with_oracles(session, ".[test,emulators]")
    # The oracle comparisons of the unit tests (meshes, skeletons) are marked interop too.
    session.run("pytest", "tests/interop", "tests/unit", "-m", "interop", "-q", "-rs", *session.posargs,
                env=LOOPBACK_ENV)  # fmt: skip


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
        "enumerate(p.read_text().splitlines(), 1) if "
        "re.search(r'precomputed_core\\.(?!(plugins|exceptions|testing)\\b)\\w', line)]; "
        "print('\\n'.join(bad)); sys.exit(1 if bad else 0)",
    )


@nox.session(python=ORACLE_PYTHON)
def cloudvolume_suite(session: nox.Session) -> None:
    """cloud-volume's own local-disk tests, imports pointed at us (needs a checkout's path)."""
    if not session.posargs:
        session.error("give a cloud-volume checkout: nox -s cloudvolume_suite -- PATH [--overlay DIR]")
    _install_with_oracles(session, ".[test]")
    session.run("python", "tests/cloudvolume_suite/run.py", *session.posargs)


@nox.session(python=ORACLE_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the Markdown docs with mkdocs (strict: broken links fail)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=ORACLE_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with the peers; writes docs/benchmarks.md."""
    _install_with_oracles(session, ".[emulators]")
    session.install("cheroot>=10.0")  # the S3 stand-in's server: moto's own closes every connection
    session.run("python", "benchmarks/run.py", *session.posargs)
