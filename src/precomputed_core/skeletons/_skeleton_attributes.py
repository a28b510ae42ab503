"""A skeleton's per-vertex attributes, stored as attributes of the object as osteoid does.

``extra_attributes`` declares them (the info's ``vertex_attributes`` entries:
id, data_type, num_components); each array is then ``skel.<id>``, one row per
vertex (1-D when it has one component). ``radius`` and ``vertex_types`` are
reachable even when undeclared, as cloud-volume code expects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InfoValidationError
from ._skeleton_files import check_attribute_specs

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy.typing as npt

__all__ = ["SkeletonAttributes"]

# Attribute arrays cloud-volume users reach as skel.radius / skel.vertex_types even undeclared.
_CLASSIC = ("radius", "vertex_types")

# Instance fields an attribute id may not take (the class's own members are refused too).
_FIELDS = frozenset(
    {"vertices", "edges", "id", "space", "extra_attributes", "default_attributes", "_transform"}
)


class SkeletonAttributes:
    """Declaring, filling and naming vertex attributes; ``Skeleton`` supplies the vertices."""

    vertices: npt.NDArray[np.float32]
    extra_attributes: list[dict[str, Any]]
    id: int | None
    radius: npt.NDArray[Any]
    vertex_types: npt.NDArray[Any]

    @property
    def radii(self) -> npt.NDArray[Any]:
        """The same array as ``radius`` (osteoid's older name)."""
        return self.radius

    @radii.setter
    def radii(self, value: npt.NDArray[Any]) -> None:
        self.radius = value

    @property
    def segid(self) -> int | None:
        """The same as ``id``: the segment this skeleton belongs to."""
        return self.id

    @segid.setter
    def segid(self, value: int | None) -> None:
        self.id = value

    def __getattr__(self, name: str) -> npt.NDArray[Any]:
        # Only reached when normal lookup fails: say which vertex attributes exist.
        if name.startswith("__"):
            raise AttributeError(name)
        declared = [s["id"] for s in self.__dict__.get("extra_attributes", [])]
        raise AttributeError(f"Skeleton has no attribute {name!r}; its vertex attributes are {declared}")

    def _attribute_names(self) -> list[str]:
        """Ids of the declared attributes, then radius/vertex_types if present but undeclared."""
        names = [s["id"] for s in self.extra_attributes]
        return names + [c for c in _CLASSIC if c not in names and c in self.__dict__]

    def _materialize_extra_attributes(self) -> None:
        n = self.vertices.shape[0]
        for spec in self.extra_attributes:
            if spec["id"] not in self.__dict__:
                k = spec["num_components"]
                fill = -1 if spec["id"] == "radius" else 0
                shape = (n,) if k == 1 else (n, k)
                setattr(self, spec["id"], np.full(shape, fill, dtype=spec["data_type"]))

    def add_extra_attributes(self, attrs: Iterable[dict[str, Any]]) -> None:
        """Declare more vertex attributes; those without data are filled as in the constructor."""
        known = {s["id"] for s in self.extra_attributes}
        new = [a for a in attrs if a["id"] not in known]
        self.extra_attributes = self._checked_specs([*self.extra_attributes, *new])
        self._materialize_extra_attributes()

    def add_vertex_attribute(self, name: str, arr: npt.ArrayLike) -> None:
        """Declare (or replace) the vertex attribute ``name`` with one row of ``arr`` per vertex."""
        values = np.asarray(arr)
        if values.shape[:1] != self.vertices.shape[:1] or values.ndim > 2:
            raise ValueError(f"attribute {name!r} has shape {values.shape}; expected one row per vertex")
        spec = {
            "id": name,
            "data_type": values.dtype.name,
            "num_components": 1 if values.ndim == 1 else values.shape[1],
        }
        others = [s for s in self.extra_attributes if s["id"] != name]
        self.extra_attributes = self._checked_specs([*others, spec])
        setattr(self, name, values)

    @classmethod
    def _checked_specs(cls, specs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Validated copies of ``specs``; an id that would hide a member of the class is refused."""
        checked = check_attribute_specs(list(specs))
        for spec in checked:
            if spec["id"] in _FIELDS or hasattr(cls, spec["id"]):
                raise InfoValidationError(
                    f"vertex attribute id {spec['id']!r} would hide Skeleton.{spec['id']}; rename it"
                )
        return checked
