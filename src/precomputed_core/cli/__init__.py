"""The ``precomputed`` command: ``info``, ``ls``, ``plugins``, ``demo``, ``cp`` and ``downsample``.

The top layer of core, with ``testing`` and ``lib``: it may import every other layer
(it drives the public ``CloudVolume`` of ``frontend``), and nothing imports it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from .. import __version__, plugins
from ..exceptions import FeatureUnavailableError, PrecomputedError
from ..frontend import CloudVolume
from ..tasks import MEMORY_TARGET, copy_layer
from ._demo import run_demo
from ._ls import run_ls
from ._text import chunk_count, table, xyz

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _summary(vol: CloudVolume) -> str:
    meta = vol.meta
    lines = [
        f"layer       {vol.layer_cloudpath}",
        f"type        {meta.layer_type}",
        f"data type   {meta.data_type}",
        f"channels    {meta.num_channels}",
    ]
    for extra in ("mesh", "skeletons", "segment_properties"):
        if extra in meta.info:
            lines.append(f"{extra:<11} {meta.info[extra]}")
    rows = []
    for mip in meta.available_mips:
        # Chunks and encodings come from the volume: not every driver's info has them.
        try:
            chunk: list[int] | None = vol.mip_chunk_size(mip).tolist()
        except FeatureUnavailableError:
            chunk = None
        rows.append([
            str(mip), meta.key(mip), xyz(meta.volume_size(mip)), xyz(meta.voxel_offset(mip)),
            "-" if chunk is None else xyz(chunk), xyz(meta.resolution(mip)),
            vol.mip_encoding(mip) or "-", "yes" if meta.is_sharded(mip) else "no",
            chunk_count(meta.volume_size(mip).tolist(), chunk),
        ])  # fmt: skip
    header = ["mip", "key", "size (vx)", "offset (vx)", "chunk (vx)", "resolution (nm)",
              "encoding", "sharded", "chunks"]  # fmt: skip
    return "\n".join(lines) + "\n\n" + table(rows, header)


def _cmd_info(args: argparse.Namespace) -> int:
    vol = CloudVolume(args.path, progress=False)
    if args.json:
        print(json.dumps(vol.info, indent=2))
    else:
        print(_summary(vol))
    vol.close()
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    for title, entries in (("drivers", plugins.driver_entries()), ("codecs", plugins.codec_entries())):
        rows = []
        for e in entries:
            missing = e.missing()
            status = (
                "ok"
                if not missing
                else f"needs {', '.join(missing)}" + (f" (pip install '{e.install}')" if e.install else "")
            )
            rows.append([e.key, e.kind, e.owner, e.target, status])
        print(f"{title}:")
        print(table(rows, ["name", "kind", "provided by", "implementation", "status"]))
        print()
    failures = plugins.load_failures()
    if failures:
        print("failed to load:")
        for owner, err in failures:
            print(f"  {owner}: {type(err).__name__}: {err}")
    else:
        print("failed to load: none")
    return 0


def _triple(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three integers X,Y,Z, got {text!r}")
    return values  # type: ignore[return-value]


def _cmd_cp(args: argparse.Namespace) -> int:
    source = CloudVolume(args.src, progress=False)
    target = CloudVolume(args.dst, info=source.info, progress=False)  # not committed: cp copies it
    stores = source._store(), target._store()
    if stores[0] is None or stores[1] is None:
        raise FeatureUnavailableError("cp copies stored objects; one of these layers is an array service")
    started = time.perf_counter()
    report = copy_layer(stores[0], stores[1], threads=args.threads, progress=not args.quiet)
    seconds = time.perf_counter() - started
    print(f"copied {report.copied} objects ({report.nbytes / 1e6:.1f} MB) in {seconds:.1f} s; "
          f"{report.skipped} already there")  # fmt: skip
    return 0


def _cmd_downsample(args: argparse.Namespace) -> int:
    vol = CloudVolume(args.path, progress=not args.quiet)
    options = {"factor": args.factor, "sparse": args.sparse, "encoding": args.encoding,
               "chunk_size": args.chunk_size, "memory_target": int(args.memory_target * 2**20)}  # fmt: skip
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError as err:
            raise FeatureUnavailableError(
                f"--scheduler needs distributed: pip install 'precomputed[dask]' ({err})"
            ) from err
        with Client(args.scheduler):  # type: ignore[no-untyped-call]
            mips = vol.downsample(args.mips, **options)
    else:
        mips = vol.downsample(args.mips, **options)
    for mip in mips:
        print(f"mip {mip}  {vol.meta.key(mip)}  {xyz(vol.meta.volume_size(mip))} voxels")
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value * 2**20 < 1:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="precomputed", description="Neuroglancer Precomputed volumes.")
    parser.add_argument("--version", action="version", version=f"precomputed {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="summarize a layer's info")
    info.add_argument("path", help="layer path, e.g. file:///data/ds/image or gs://bucket/ds/image")
    info.add_argument("--json", action="store_true", help="print the raw info JSON")
    info.set_defaults(func=_cmd_info)
    ls = sub.add_parser("ls", help="list a layer's scales: objects found, of how many, and their bytes")
    ls.add_argument("path", help="layer path, e.g. file:///data/ds/image or s3://bucket/ds/image")
    ls.add_argument("--progress", action="store_true", help="a progress bar over the scales")
    ls.set_defaults(func=run_ls)
    plug = sub.add_parser("plugins", help="list installed drivers and codecs")
    plug.set_defaults(func=_cmd_plugins)
    demo = sub.add_parser("demo", help="write, read and verify a sample volume on local disk")
    demo.add_argument("dir", nargs="?", help="directory for the volume (default: a new temporary one)")
    demo.add_argument("--size", type=int, default=512, help="x and y size in voxels (default 512)")
    demo.add_argument("--depth", type=int, default=128, help="z size in voxels (default 128)")
    demo.add_argument("--progress", action="store_true", help="show progress bars")
    demo.set_defaults(func=run_demo)
    cp = sub.add_parser("cp", help="copy a layer byte for byte (resumes: objects already there are skipped)")
    cp.add_argument("src", help="the layer to copy")
    cp.add_argument("dst", help="where to copy it (any writable protocol)")
    cp.add_argument("--threads", type=int, default=16, help="parallel object copies (default 16)")
    cp.add_argument("--quiet", action="store_true", help="no progress bar")
    cp.set_defaults(func=_cmd_cp)
    down = sub.add_parser("downsample", help="add scales above the highest one and compute them")
    down.add_argument("path", help="the layer")
    down.add_argument("--mips", type=int, default=1, help="how many scales to add (default 1)")
    down.add_argument("--factor", type=_triple, default=(2, 2, 1), help="X,Y,Z per scale (default 2,2,1)")
    down.add_argument("--sparse", action="store_true", help="segmentation: 0 never outvotes a label")
    down.add_argument("--encoding", help="the new scales' encoding (default: the source's)")
    down.add_argument("--chunk-size", type=_triple, help="the new scales' chunk size X,Y,Z")
    down.add_argument("--memory-target", type=_positive, default=MEMORY_TARGET / 2**20,
                      help="MiB of source one task may read; more mips per pass fit in more "
                      f"(default {MEMORY_TARGET // 2**20})")  # fmt: skip
    down.add_argument("--scheduler", help="a dask.distributed scheduler address, e.g. tcp://10.0.0.1:8786")
    down.add_argument("--quiet", action="store_true", help="no progress bars")
    down.set_defaults(func=_cmd_downsample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except PrecomputedError as err:
        print(f"precomputed: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
