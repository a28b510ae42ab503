"""Meshes: the ``Mesh`` data class and its file formats.

``Mesh`` holds one object's vertices (x, y, z in nm), triangles and normals and
reads and writes the legacy Precomputed fragment, OBJ and PLY formats;
``apply_transform`` maps vertices through an info's affine ``transform``.
``MeshSource`` is ``vol.mesh``: the legacy format (``_legacy``) and the
multi-resolution one (``_multilod``: Draco fragments on an octree, unsharded or
sharded) over a layer's ``Store``. May import ``format``, ``interfaces``,
``meta``, ``geometry`` and ``exceptions``.

Importing this package is cheap: ``trimesh`` is imported only by
``Mesh.trimesh``/``Mesh.from_trimesh``, and DracoPy only to code a fragment.
"""

from __future__ import annotations

from ._manifest import MultiLodManifest
from ._mesh import Mesh
from ._service import MeshSource
from ._transform import apply_transform

__all__ = ["Mesh", "MeshSource", "MultiLodManifest", "apply_transform"]
