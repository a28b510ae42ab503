"""Declare our codecs to precomputed's plugin system (nothing is imported here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from precomputed_core.plugins import hookimpl

if TYPE_CHECKING:
    from precomputed_core.plugins import Registrar


@hookimpl
def precomputed_register_codecs(registry: Registrar) -> None:
    registry.add("raw", "precomputed_codecs.raw:RawCodec")
    registry.add("jpeg", "precomputed_codecs.jpeg:JpegCodec", requires=("PIL",), install="Pillow>=9.0")
    registry.add("png", "precomputed_codecs.png:PngCodec", requires=("PIL",), install="Pillow>=9.0")
    registry.add(
        "compressed_segmentation",
        "precomputed_codecs.compressed_segmentation:CompressedSegmentationCodec",
        requires=("compressed_segmentation",),
        install="compressed-segmentation>=2.2",
    )
    # cloud-volume's two segmentation formats beyond the spec, for its users' layers.
    registry.add(
        "compresso", "precomputed_codecs.compresso:CompressoCodec", requires=("compresso",),
        install="precomputed[compresso]",
    )  # fmt: skip
    registry.add(
        "crackle", "precomputed_codecs.crackle:CrackleCodec", requires=("crackle",),
        install="precomputed[crackle]",
    )  # fmt: skip
