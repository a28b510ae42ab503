"""docs/compatibility.md lists every public name of cloud-volume 12's classes, truthfully.

The page has one table per class (a ``## `Name``` section each) with a row per
public name: ``| `name` | **status** | notes |``, the status being ``same``,
``different`` or ``not provided``. These tests read cloud-volume's names the way
the page was made (``dir()`` of instances, so attributes set in ``__init__``
count; for ``CloudVolume`` also the classmethods of ``cloudvolume.CloudVolume``;
for the constructor the parameters of ``cloudvolume.CloudVolume(...)``) and check:

- every cloud-volume name has a row in its class's table;
- every name marked ``same`` or ``different`` exists on ours, and every name
  marked ``not provided`` does not (so the page follows the code both ways);
- rows are sorted and unique, and the counts at the top of the page add up.

A name that only the installed NumPy has (``Vec`` inherits ndarray's members) is
checked only when cloud-volume's class has it here too.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cloudvolume
import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume, Mesh, Skeleton, Vec

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.interop

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
STATUSES = ("same", "different", "not provided")
SECTIONS = {
    "`CloudVolume(...)` constructor parameters": "constructor",
    "`CloudVolume`": "CloudVolume",
    "`Bbox`": "Bbox",
    "`Vec`": "Vec",
    "`Mesh`": "Mesh",
    "`Skeleton`": "Skeleton",
}
SUMMARY = {
    "`CloudVolume(...)` parameters": "constructor",
    "`CloudVolume`": "CloudVolume",
    "`Bbox`": "Bbox",
    "`Vec`": "Vec",
    "`Mesh`": "Mesh",
    "`Skeleton`": "Skeleton",
}
ROW = re.compile(r"^\| `([^`]+)` \| \*\*(same|different|not provided)\*\* \|.*\|$")
COUNTS = re.compile(r"^\| (`[^|]+`[^|]*) \| (\d+) same, (\d+) different, (\d+) not provided \|$")


def _public(obj: Any) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_")}


def _parse() -> tuple[dict[str, list[tuple[str, str]]], dict[str, tuple[int, int, int]]]:
    """The rows of each class's table, in page order, and the counts given at the top."""
    tables: dict[str, list[tuple[str, str]]] = {}
    counts: dict[str, tuple[int, int, int]] = {}
    current: str | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = SECTIONS.get(line[3:].strip())
            if current is not None:
                assert current not in tables, f"two sections for {current}"
                tables[current] = []
            continue
        if current is None:
            found = COUNTS.match(line)
            if found and found.group(1) in SUMMARY:
                counts[SUMMARY[found.group(1)]] = tuple(int(found.group(i)) for i in (2, 3, 4))
        elif line.startswith("| `"):
            row = ROW.match(line)
            assert row, f"{current}: a row not of the form | `name` | **status** | notes |: {line}"
            tables[current].append((row.group(1), row.group(2)))
    assert set(tables) == set(SECTIONS.values()), f"sections found: {sorted(tables)}"
    return tables, counts


TABLES, COUNTS_GIVEN = _parse()


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Any, Any]]]:
    """One cloud-volume object and one of ours per class: ``{class: (theirs, ours)}``."""
    root = tmp_path_factory.mktemp("compatibility")
    args = (1, "segmentation", "uint64", "raw", [4, 4, 40], [0, 0, 0], [64, 64, 16])
    options = {"mesh": "mesh", "skeletons": "skeletons", "chunk_size": [32, 32, 16]}
    theirs = cloudvolume.CloudVolume(
        f"file://{root}/theirs", info=cloudvolume.CloudVolume.create_new_info(*args, **options)
    )
    ours = CloudVolume(
        f"file://{root}/ours", info=CloudVolume.create_new_info(*args, **options), progress=False
    )
    vertices = np.zeros((3, 3), dtype=np.float32)
    faces = np.array([[0, 1, 2]], dtype=np.uint32)
    pairs = {
        "CloudVolume": (theirs, ours),
        "Bbox": (cloudvolume.Bbox((0, 0, 0), (1, 1, 1)), Bbox((0, 0, 0), (1, 1, 1))),
        "Vec": (cloudvolume.Vec(1, 2, 3), Vec(1, 2, 3)),
        "Mesh": (cloudvolume.Mesh(vertices, faces, None, segid=1), Mesh(vertices, faces, None, segid=1)),
        "Skeleton": (cloudvolume.Skeleton(), Skeleton()),
    }
    yield pairs
    ours.close()


def _names(instances: dict[str, tuple[Any, Any]], table: str) -> tuple[set[str], set[str]]:
    """cloud-volume's public names for ``table``, and ours."""
    if table == "constructor":
        theirs = set(inspect.signature(cloudvolume.CloudVolume.__new__).parameters) - {"cls"}
        ours = set(inspect.signature(CloudVolume.__init__).parameters) - {"self"}
        return theirs, ours
    their_object, our_object = instances[table]
    theirs = _public(their_object)
    if table == "CloudVolume":
        theirs |= _public(cloudvolume.CloudVolume)  # from_numpy, create_new_info, from_crackle
    return theirs, _public(our_object)


@pytest.mark.parametrize("table", list(SECTIONS.values()))
def test_every_cloudvolume_name_has_a_row(instances: dict[str, tuple[Any, Any]], table: str) -> None:
    theirs, _ = _names(instances, table)
    listed = {name for name, _ in TABLES[table]}
    missing = sorted(theirs - listed)
    assert not missing, f"docs/compatibility.md, table {table}: add rows for {missing}"


@pytest.mark.parametrize("table", list(SECTIONS.values()))
def test_statuses_agree_with_our_names(instances: dict[str, tuple[Any, Any]], table: str) -> None:
    theirs, ours = _names(instances, table)
    rows = [(name, status) for name, status in TABLES[table] if name in theirs]
    absent = sorted(name for name, status in rows if status != "not provided" and name not in ours)
    present = sorted(name for name, status in rows if status == "not provided" and name in ours)
    assert not absent, f"table {table}: marked same or different, but we have no {absent}"
    assert not present, f"table {table}: marked not provided, but we have {present}: say how they compare"


@pytest.mark.parametrize("table", list(SECTIONS.values()))
def test_rows_are_sorted_unique_and_counted(table: str) -> None:
    names = [name for name, _ in TABLES[table]]
    assert names == sorted(names), f"table {table} is not sorted by name"
    assert len(names) == len(set(names)), f"table {table} lists a name twice"
    counted = tuple(sum(status == s for _, status in TABLES[table]) for s in STATUSES)
    assert COUNTS_GIVEN.get(table) == counted, f"the counts at the top of the page for {table}: {counted}"
