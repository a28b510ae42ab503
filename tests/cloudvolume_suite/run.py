"""Run cloud-volume's own tests against precomputed, with the imports changed.

    python tests/cloudvolume_suite/run.py /path/to/cloud-volume [--keep DIR]

(or ``nox -s cloudvolume_suite -- /path/to/cloud-volume``). The path is a checkout
of https://github.com/seung-lab/cloud-volume (a work tree, or a bare git directory).
Its ``test/`` directory is copied and every public import is pointed at us: a name
that ``precomputed_core`` (or ``precomputed_core.lib`` / ``.exceptions``) provides is
imported from there, exactly as a user switching would change the import. Names we do
not provide (cloud-volume's internals such as ``cloudvolume.chunks``, used by the
tests as helpers) still come from cloud-volume, which must be installed.

The tests that need the internet (cloud-volume's public test buckets) or exercise
cloud-volume's internals are listed in ``EXCLUDED`` with the reason, and not counted.
The script prints each failure and the pass rate of the rest, and exits 1 below 90%.
It is a tool for people, not part of ``nox``'s default sessions: it needs a
cloud-volume checkout, which CI does not have.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import precomputed_core
import precomputed_core.exceptions
import precomputed_core.lib

#: The test files that use cloud-volume's public API on local disk.
FILES = [
    "test_cloudvolume.py",
    "test_lib.py",
    "test_skeletons.py",
    "test_sharding.py",
    "test_meshing.py",
    "test_provenance.py",
    "test_annotations.py",
    "test_precomputed_multilod.py",
]

_NETWORK = "reads cloud-volume's public test buckets (gs://seunglab-test, hemibrain): needs the internet"
#: Test (function name, before any [parameters]) -> why it is not counted.
EXCLUDED = {
    "test_cloudvolume.py::test_cloud_access": _NETWORK,
    "test_cloudvolume.py::test_parallel_read": _NETWORK,
    "test_cloudvolume.py::test_parallel_read_shm": _NETWORK,
    "test_cloudvolume.py::test_info_provenance_cache": _NETWORK,
    "test_sharding.py::test_image_fidelity": _NETWORK,
    "test_sharding.py::test_mesh_shard_unshard": _NETWORK,
    "test_sharding.py::test_skeleton_fidelity": _NETWORK,
    "test_sharding.py::test_skeleton_shard_unshard": _NETWORK,
    "test_precomputed_multilod.py::test_get_sharded_mesh": _NETWORK,
    "test_precomputed_multilod.py::test_get_sharded_mesh_invalid_lod": _NETWORK,
    "test_meshing.py::test_mesh_fragment_download": "calls cloud-volume's private vol.mesh._get_manifests",
    "test_skeletons.py::test_sharded": "calls cloud-volume's shard reader internals (reader.list_labels, "
    "disassemble_shard)",
    "test_sharding.py::test_sharding_spec_validation": "tests cloud-volume's internal ShardingSpecification class",
}

_PROVIDERS = {
    "cloudvolume": ("precomputed_core", precomputed_core),
    "cloudvolume.lib": ("precomputed_core.lib", precomputed_core.lib),
    "cloudvolume.exceptions": ("precomputed_core.exceptions", precomputed_core.exceptions),
}
_FROM_IMPORT = re.compile(r"^from (cloudvolume(?:\.lib|\.exceptions)?) import (\([^)]*\)|.*)$", re.M)


def _point_at_us(match: re.Match[str]) -> str:
    """``from cloudvolume[.lib|.exceptions] import a, b``: ours where we have the name."""
    module, names = match.group(1), match.group(2)
    target, provider = _PROVIDERS[module]
    parts = [p.strip() for p in names.strip().strip("()").replace("\n", " ").split(",") if p.strip()]
    ours = [p for p in parts if hasattr(provider, p.split(" as ")[0].strip())]
    theirs = [p for p in parts if p not in ours]
    lines = [f"from {target} import {', '.join(ours)}"] if ours else []
    lines += [f"from {module} import {', '.join(theirs)}"] if theirs else []
    return "\n".join(lines)


def rewrite(source: str) -> str:
    source = _FROM_IMPORT.sub(_point_at_us, source)
    source = re.sub(
        r"^import cloudvolume\.lib as lib$", "import precomputed_core.lib as lib", source, flags=re.M
    )
    return re.sub(r"^import cloudvolume$", "import precomputed_core as cloudvolume", source, flags=re.M)


def copy_tests(checkout: Path, into: Path) -> None:
    """cloud-volume's ``test/`` directory, from a work tree or a (bare) git directory."""
    if (checkout / "test").is_dir():
        shutil.copytree(checkout / "test", into / "test")
        return
    listing = subprocess.run(["git", "-C", str(checkout), "ls-tree", "-r", "--name-only", "HEAD", "test"],
                             capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    for name in listing:
        blob = subprocess.run(
            ["git", "-C", str(checkout), "show", f"HEAD:{name}"], capture_output=True, check=False
        )
        if blob.returncode == 0:  # a snapshot may lack its largest files
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            (into / name).write_bytes(blob.stdout)
        else:
            print(f"not in the checkout: {name}", file=sys.stderr)


def outcomes(report: Path) -> dict[str, str]:
    """``file::test[params]`` -> passed / failed / skipped, from pytest's junit XML."""
    results = {}
    for case in ET.parse(report).iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}.py::{case.get('name')}"
        failed = case.find("failure") is not None or case.find("error") is not None
        results[name] = "failed" if failed else "skipped" if case.find("skipped") is not None else "passed"
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkout", type=Path, help="a cloud-volume checkout (work tree or git directory)")
    parser.add_argument("--keep", type=Path, help="copy the rewritten tests here and keep them")
    parser.add_argument(
        "--overlay",
        type=Path,
        help="a directory copied over test/ (files a snapshot lacks: see make_shard_data.py)",
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cloudvolume-suite-"))
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / "test", ignore_errors=True)
    copy_tests(args.checkout, work)
    if args.overlay is not None:
        shutil.copytree(args.overlay, work / "test", dirs_exist_ok=True)
    for path in (work / "test").glob("*.py"):
        path.write_text(rewrite(path.read_text()))
    report = work / "report.xml"
    subprocess.run([sys.executable, "-m", "pytest", *FILES, "-q", "-p", "no:cacheprovider", "-W", "ignore",
                    "--tb=line", f"--junitxml={report}"], cwd=work / "test", check=False)  # fmt: skip
    results = outcomes(report)
    counted = {name: result for name, result in results.items() if name.split("[")[0] not in EXCLUDED}
    passed = sum(result == "passed" for result in counted.values())
    print("\nnot counted:")
    for name, reason in EXCLUDED.items():
        print(f"  {name}: {reason}")
    print("\nfailed:")
    for name, result in sorted(counted.items()):
        if result != "passed":
            print(f"  {name} ({result})")
    rate = passed / max(len(counted), 1)
    print(
        f"\n{passed} of {len(counted)} counted tests pass ({rate:.1%}); {len(results) - len(counted)} not counted"
    )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if rate >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
