"""``vol.mesh.meta``: the mesh directory, its ``info`` and the names cloud-volume gives them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..exceptions import InfoValidationError
from ..format import ObjectDirectory
from ._transform import affine_matrix

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["LEGACY", "MULTILOD", "MeshMeta", "default_info"]

LEGACY = "neuroglancer_legacy_mesh"
MULTILOD = "neuroglancer_multilod_draco"
#: igneous names mesh directories after the mip they were made at: mesh_mip_2_err_40.
_MESH_MIP = re.compile(r"mesh_mip_(\d+)")


def default_info() -> dict[str, Any]:
    return {"@type": LEGACY}


class MeshMeta(ObjectDirectory):
    """The mesh directory and its ``info`` (``vol.mesh.meta``)."""

    # --- where it is, as cloud-volume names it ------------------------------------------

    @property
    def mesh_path(self) -> str:
        """The mesh directory, relative to the layer (the layer info's ``mesh`` key)."""
        return self.path

    @property
    def cloudpath(self) -> str:
        """The layer's URL."""
        return self.store.url

    @property
    def layerpath(self) -> str:
        """The mesh directory's URL: the layer's URL joined with ``mesh_path``.

        The name is cloud-volume's (it hands this to ``CloudFiles`` to list or copy
        the mesh files).
        """
        return f"{self.store.url.rstrip('/')}/{self.path}"

    # --- the info ---------------------------------------------------------------------

    @property
    def mip(self) -> int | None:
        """The mip the meshes were made at: the info's ``mip``, else the ``N`` of a
        ``mesh_mip_N...`` directory name (igneous's), else None, as cloud-volume finds it."""
        mip = self.info.get("mip")
        if mip is None:
            found = _MESH_MIP.search(self.path)
            return int(found.group(1)) if found else None
        if isinstance(mip, float) and mip.is_integer():
            mip = int(mip)  # cloud-volume reads it with int(): 2.0 is mip 2
        if isinstance(mip, bool) or not isinstance(mip, int) or mip < 0:
            raise InfoValidationError(
                f"{self.describe('info')}: mip must be a mip level (0, 1, ...), got {mip!r}; "
                "set vol.mesh.meta.mip and call vol.mesh.meta.commit_info()"
            )
        return mip

    @mip.setter
    def mip(self, mip: int) -> None:
        if isinstance(mip, bool) or not isinstance(mip, int) or mip < 0:
            raise ValueError(f"the meshes' mip must be a mip level (0, 1, ...), got {mip!r}")
        self.info["mip"] = int(mip)

    def is_multires(self) -> bool:
        kind = self.info.get("@type", LEGACY)
        if kind not in (LEGACY, MULTILOD):
            raise InfoValidationError(
                f"{self.describe('info')}: unknown mesh format {kind!r}; known: {LEGACY}, {MULTILOD}"
            )
        return bool(kind == MULTILOD)

    def to_multi_resolution(
        self, vertex_quantization_bits: int = 16, transform: Sequence[float] | None = None
    ) -> dict[str, Any]:
        """Make this info a multi-resolution one (commit it with ``commit_info``).

        ``transform`` maps stored positions to nanometres; the default identity
        stores nanometres, so any mesh fits whatever the layer's resolution.
        """
        if vertex_quantization_bits not in (10, 16):
            raise ValueError(f"vertex_quantization_bits must be 10 or 16, got {vertex_quantization_bits!r}")
        if transform is not None:  # 12 finite numbers, or a 3x4 / 4x4 / 3x3 matrix, else ValueError
            transform = affine_matrix(transform).reshape(-1).tolist()
        self.info.update(
            {
                "@type": MULTILOD,
                "vertex_quantization_bits": int(vertex_quantization_bits),
                "transform": list(transform)
                if transform is not None
                else [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
                "lod_scale_multiplier": 1.0,
            }
        )
        return self.info

    def to_single_resolution(self) -> dict[str, Any]:
        for key in ("vertex_quantization_bits", "lod_scale_multiplier", "sharding", "transform"):
            self.info.pop(key, None)
        self.info["@type"] = LEGACY
        return self.info
