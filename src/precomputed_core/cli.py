"""The ``precomputed`` command: ``info``, ``plugins``, ``demo``, ``cp`` and ``downsample``."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__, plugins
from .exceptions import FeatureUnavailableError, PrecomputedError
from .frontend import CloudVolume
from .tasks import MEMORY_TARGET, copy_layer

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _xyz(values: Any) -> str:
    return " x ".join(str(v) for v in list(values))


def _chunk_count(size: list[int], chunk: list[int] | None) -> str:
    return "-" if chunk is None else str(math.prod(-(-s // c) for s, c in zip(size, chunk)))


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
            str(mip), meta.key(mip), _xyz(meta.volume_size(mip)), _xyz(meta.voxel_offset(mip)),
            "-" if chunk is None else _xyz(chunk), _xyz(meta.resolution(mip)),
            vol.mip_encoding(mip) or "-", "yes" if meta.is_sharded(mip) else "no",
            _chunk_count(meta.volume_size(mip).tolist(), chunk),
        ])  # fmt: skip
    header = ["mip", "key", "size (vx)", "offset (vx)", "chunk (vx)", "resolution (nm)",
              "encoding", "sharded", "chunks"]  # fmt: skip
    return "\n".join(lines) + "\n\n" + _table(rows, header)


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
        print(_table(rows, ["name", "kind", "provided by", "implementation", "status"]))
        print()
    failures = plugins.load_failures()
    if failures:
        print("failed to load:")
        for owner, err in failures:
            print(f"  {owner}: {type(err).__name__}: {err}")
    else:
        print("failed to load: none")
    return 0


def _demo_data(shape: tuple[int, int, int]) -> np.ndarray[Any, Any]:
    x, y, z = np.ogrid[: shape[0], : shape[1], : shape[2]]
    data: np.ndarray[Any, Any] = ((x * 3 + y * 5 + z * 7 + (x * y) // 64) % 256).astype(np.uint8)
    return data


def _rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / 1e6:.0f} MB in {seconds:.2f} s = {nbytes / 1e6 / max(seconds, 1e-9):.0f} MB/s"


def _cmd_demo(args: argparse.Namespace) -> int:
    directory = args.dir or tempfile.mkdtemp(prefix="precomputed-demo-")
    path = f"file://{directory.rstrip('/')}/demo/image"
    shape = (args.size, args.size, args.depth)
    info = CloudVolume.create_new_info(
        1, "image", "uint8", "raw", [8, 8, 40], [0, 0, 0], shape, chunk_size=(64, 64, 64), max_mip=1
    )
    vol = CloudVolume(path, info=info, progress=args.progress)
    vol.commit_info()
    print(f"created   {vol.layer_cloudpath} ({_xyz(shape)} uint8, raw, 64^3 chunks, 2 mips)")
    data = _demo_data(shape)
    start = time.perf_counter()
    vol[:, :, :] = data
    # Said, as the README's speed table is for Fortran order: numpy's C order (np.zeros,
    # np.load, tifffile) costs a transposing copy per chunk.
    order = "C-ordered" if data.flags.c_contiguous else "Fortran-ordered"
    print(f"wrote     mip 0 from a {order} array: {_rate(data.nbytes, time.perf_counter() - start)}")
    start = time.perf_counter()
    back = vol[:, :, :]
    print(f"read      mip 0: {_rate(back.nbytes, time.perf_counter() - start)}")
    ok = bool(np.array_equal(back[..., 0], data))
    rng = np.random.default_rng(0)
    for _ in range(20):
        lo = rng.integers(0, np.array(shape) - 1)
        hi = lo + rng.integers(1, np.minimum(np.array(shape) - lo, 100) + 1)
        box = np.s_[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        ok &= bool(np.array_equal(vol[box][..., 0], data[box]))
    print(f"verified  full read and 20 random unaligned cutouts: {'identical' if ok else 'MISMATCH'}")
    vol.mip = 1
    small = data[::2, ::2, :]
    vol[:, :, :] = small
    ok &= bool(np.array_equal(vol[:, :, :][..., 0], small))
    print(f"mip 1     {vol.key}: wrote and verified {_xyz(vol.volume_size)} voxels")
    vol.close()
    print(f"open it   CloudVolume({path!r})  or  precomputed info {path}")
    return 0 if ok else 1


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
        print(f"mip {mip}  {vol.meta.key(mip)}  {_xyz(vol.meta.volume_size(mip))} voxels")
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
    plug = sub.add_parser("plugins", help="list installed drivers and codecs")
    plug.set_defaults(func=_cmd_plugins)
    demo = sub.add_parser("demo", help="write, read and verify a sample volume on local disk")
    demo.add_argument("dir", nargs="?", help="directory for the volume (default: a new temporary one)")
    demo.add_argument("--size", type=int, default=512, help="x and y size in voxels (default 512)")
    demo.add_argument("--depth", type=int, default=128, help="z size in voxels (default 128)")
    demo.add_argument("--progress", action="store_true", help="show progress bars")
    demo.set_defaults(func=_cmd_demo)
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
