"""What ``vol.download`` does to segmentation after reading: ``label``, ``segids`` and ``renumber``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import FeatureUnavailableError, UnsupportedDataTypeError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import numpy.typing as npt

__all__ = ["binary_image", "crackle_array", "mask_except", "renumbered"]


def _integer_labels(image: npt.NDArray[Any], what: str) -> None:
    if image.dtype.kind not in "iu":
        raise UnsupportedDataTypeError(f"{what} needs integer labels; this layer holds {image.dtype}")


def binary_image(image: npt.NDArray[Any], label: int) -> npt.NDArray[np.bool_]:
    """True where the voxel is ``label`` (cloud-volume's ``download(label=...)``)."""
    return np.asarray(image == label)


def mask_except(image: npt.NDArray[Any], segids: Iterable[int], preserve_zeros: bool) -> npt.NDArray[Any]:
    """Set every label outside ``segids`` to 0 (with ``preserve_zeros``: to the dtype's
    largest value, leaving 0 as it is), in place."""
    _integer_labels(image, "segids")
    keep = [int(s) for s in segids]
    if preserve_zeros:
        keep.append(0)
        fill = np.iinfo(image.dtype).max
    else:
        fill = 0
    image[~np.isin(image, np.asarray(keep, dtype=image.dtype))] = fill
    return image


def renumbered(image: npt.NDArray[Any], background: int = 0) -> tuple[npt.NDArray[Any], dict[int, int]]:
    """The labels renumbered 1, 2, ... in increasing order (``background`` stays itself),
    in the smallest unsigned dtype of at least 16 bits that holds them, and the mapping
    ``{old: new}``.

    cloud-volume numbers labels in the order chunks arrive, so its numbers vary from run
    to run; here they follow the labels' order, so a region always renumbers the same way.
    """
    _integer_labels(image, "renumber")
    labels, inverse = np.unique(image, return_inverse=True)
    is_background = labels == background
    others = labels[~is_background]
    ids = np.arange(1, len(others) + 2, dtype=np.uint64)
    ids = ids[ids != background][: len(others)]  # a nonzero background keeps its own number
    top = max(int(ids[-1]) if len(ids) else 0, int(background))
    dtype = next(t for t in (np.uint16, np.uint32, np.uint64) if top <= np.iinfo(t).max)
    new_ids = np.zeros(len(labels), dtype=dtype)
    new_ids[~is_background] = ids
    new_ids[is_background] = background
    remap = {int(background): int(background)}
    remap.update(zip(others.tolist(), ids.tolist()))
    out = new_ids[np.asarray(inverse).reshape(image.shape)]
    return np.asfortranarray(out), remap


def crackle_array(image: npt.NDArray[Any]) -> Any:
    """One channel of labels as a ``crackle.CrackleArray`` (cloud-volume's ``download(crackle=True)``):
    compressed in memory, sliced and queried without decompressing all of it."""
    try:
        import crackle
    except ImportError as err:
        raise FeatureUnavailableError(
            "download(crackle=True) needs crackle: pip install 'precomputed[crackle]'"
        ) from err
    if image.ndim == 4 and image.shape[3] != 1:
        raise UnsupportedDataTypeError(
            f"crackle holds one channel of labels; this image has {image.shape[3]}"
        )
    labels = np.asarray(image)[..., 0] if image.ndim == 4 else np.asarray(image)
    if labels.dtype == np.bool_:
        labels = labels.view(np.uint8)
    _integer_labels(labels, "crackle")
    return crackle.CrackleArray(crackle.compress(np.asfortranarray(labels), parallel=1))
