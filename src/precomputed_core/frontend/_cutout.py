"""``VolumeCutout``: the ndarray a read returns, with where it came from."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..exceptions import FeatureUnavailableError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..geometry import Bbox, Vec

__all__ = ["VolumeCutout", "save_images"]

_ATTRS = ("dataset_name", "layer", "mip", "layer_type", "bounds", "resolution", "cloudpath")


class VolumeCutout(np.ndarray):  # type: ignore[type-arg]
    """An (x, y, z, c) ndarray with the README's book-keeping attributes.

    ``bounds`` is the cutout's box in voxels at ``mip``; ``resolution`` is
    nanometers per voxel at that mip.
    """

    dataset_name: str | None
    layer: str | None
    mip: int | None
    layer_type: str | None
    bounds: Bbox | None
    resolution: Vec | None
    cloudpath: str | None

    @classmethod
    def wrap(cls, array: npt.NDArray[Any], **attrs: Any) -> VolumeCutout:
        """View ``array`` as a cutout (no copy) and set its attributes."""
        cutout = array.view(cls)
        for name in _ATTRS:
            setattr(cutout, name, attrs.get(name))
        return cutout

    def __array_finalize__(self, obj: Any) -> None:
        for name in _ATTRS:
            setattr(self, name, getattr(obj, name, None))

    def __reduce__(self) -> tuple[Any, ...]:
        # ndarray's pickle keeps only the voxels: add where they came from.
        rebuild, args, state = cast("tuple[Any, Any, Any]", super().__reduce__()[:3])
        return rebuild, args, (state, {name: getattr(self, name, None) for name in _ATTRS})

    def __setstate__(self, state: Any) -> None:
        # (voxels, attributes) from this version; voxels alone from 0.1.0, which kept none.
        voxels, attributes = state if len(state) == 2 and isinstance(state[1], dict) else (state, {})
        super().__setstate__(voxels)
        for name in _ATTRS:
            setattr(self, name, attributes.get(name))

    @property
    def num_channels(self) -> int:
        """Alias for ``shape[3]``."""
        return int(self.shape[3]) if self.ndim >= 4 else 1

    def save_images(
        self,
        directory: str | os.PathLike[str] | None = None,
        axis: str = "z",
        channel: int | None = None,
        global_norm: bool = True,
        image_format: str = "PNG",
        progress: bool = False,
    ) -> str:
        """Save one image per slice along ``axis`` (default ``./saved_images/...``).

        Returns the directory written to. Needs Pillow (a dependency of precomputed).
        """
        if directory is None:
            box = self.bounds.to_filename() if self.bounds is not None else "cutout"
            directory = os.path.join(
                "saved_images", self.dataset_name or "default", self.layer or "default",
                str(self.mip or 0), box,
            )  # fmt: skip
        return save_images(
            np.asarray(self), directory, axis=axis, channel=channel,
            global_norm=global_norm, image_format=image_format, progress=progress,
        )  # fmt: skip


def _to_uint8(img: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    img = np.nan_to_num(img.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lower, upper = float(img.min()), float(img.max())
    scale = 255.0 / (upper - lower) if upper > lower else 0.0
    return ((img - lower) * scale).astype(np.uint8)


def _image(plane: npt.NDArray[Any], image_module: Any) -> Any:
    if plane.dtype == np.bool_:
        return image_module.fromarray(plane.astype(np.uint8) * 255, "L")
    if plane.dtype == np.uint8:
        return image_module.fromarray(np.ascontiguousarray(plane), "L")
    if plane.dtype == np.uint16:
        # Pillow picks its 16-bit mode itself; naming it is refused by Pillow >= 13.
        return image_module.fromarray(np.ascontiguousarray(plane))
    if plane.dtype.kind == "f":
        return image_module.fromarray(_to_uint8(plane), "L")
    # Labels: show the low 24 bits as RGB so neighbouring segments differ in colour.
    labels = plane.astype(np.uint64)
    rgb = np.stack([(labels >> s) & 0xFF for s in (0, 8, 16)], axis=-1).astype(np.uint8)
    return image_module.fromarray(np.ascontiguousarray(rgb), "RGB")


def save_images(
    image: npt.NDArray[Any],
    directory: str | os.PathLike[str],
    *,
    axis: str = "z",
    channel: int | None = None,
    global_norm: bool = True,
    image_format: str = "PNG",
    progress: bool = False,
) -> str:
    """Write slices of an (x, y, z[, c]) array as images, one file per slice and channel."""
    try:
        from PIL import Image
    except ImportError as err:
        raise FeatureUnavailableError("save_images needs Pillow: pip install 'Pillow>=9.0'") from err
    from ..image import progress_bar

    axes = {"x": 0, "y": 1, "z": 2}
    if axis not in axes:
        raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    while image.ndim < 4:
        image = image[..., np.newaxis]
    if global_norm and image.dtype.kind == "f":
        image = _to_uint8(image)
    channels = range(image.shape[3]) if channel is None else [channel]
    os.makedirs(directory, exist_ok=True)
    index = axes[axis]
    with progress_bar(image.shape[index], desc="Saving images", enabled=progress) as bar:
        for level in range(image.shape[index]):
            plane = np.take(image, level, axis=index)
            for c in channels:
                # (x, y) -> image rows are y, columns are x, as a viewer shows a z slice.
                picture = _image(np.swapaxes(plane[..., c], 0, 1), Image)
                name = f"{level:05d}.{image_format.lower()}"
                if image.shape[3] > 1:
                    name = f"{c}-{name}"
                picture.save(os.path.join(directory, name), image_format)
            bar.update(1)
    return os.fspath(directory)
