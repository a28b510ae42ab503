"""The fast row unique behind ``Mesh.consolidate`` gives exactly what ``np.unique(axis=0)`` gives."""

from __future__ import annotations

import numpy as np
import pytest

from precomputed_core.meshes._mesh_ops import unique_faces, unique_rows


@pytest.mark.parametrize("dtype", ["float32", "uint32", "float64"])
@pytest.mark.parametrize("seed", range(5))
def test_unique_rows_matches_numpy(dtype, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 4, (300, 3)).astype(dtype)
    if dtype == "float32":
        rows *= rng.choice([-1.5, 0.5, 1.0, -0.0], size=(300, 1)).astype(np.float32)  # negatives, -0.0
    unique, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    got = unique_rows(rows)
    np.testing.assert_array_equal(got[0], unique)
    np.testing.assert_array_equal(got[1], first)
    np.testing.assert_array_equal(got[2], inverse.reshape(-1))
    np.testing.assert_array_equal(got[0][got[2]], rows)


@pytest.mark.parametrize("top", [50, 2**21 + 5])  # packed into one integer, and too large for that
def test_unique_faces_matches_numpy(top):
    rng = np.random.default_rng(top)
    faces = rng.integers(0, top, (500, 3)).astype(np.uint32)
    faces = np.concatenate([faces, faces[:100]])
    np.testing.assert_array_equal(unique_faces(faces), np.unique(faces, axis=0))
