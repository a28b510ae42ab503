"""Every public name of the API reference's classes has a docstring of its own.

docs/api/ is generated from the docstrings (mkdocstrings reads them statically, with
griffe), and ``help()`` reads them at run time, so both forms are checked: the object's
docstring, and for names declared by an assignment (``bounds = AtMip(...)``, dataclass
fields, class constants) the string literal that follows the assignment. Fields of a
slots dataclass or a NamedTuple carry no docstring at run time (``field(doc=...)`` is
Python 3.14), so only the literal documents them.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import types
from typing import Any

import pytest

import precomputed_core as pc
from precomputed_core.plugins import hookspecs

CLASSES = [
    pc.CloudVolume,
    pc.Bbox,
    pc.Vec,
    pc.VolumeCutout,
    pc.Store,
    pc.Codec,
    pc.Volume,
    pc.ReadOptions,
    pc.WriteOptions,
    pc.ChunkSpec,
    pc.ObjectMetadata,
    pc.ByteRange,
    pc.RangeRead,
    pc.StoredObject,
]

PLAIN_DATA = (int, str, float, tuple, type(None))


def _public_members(cls: type) -> dict[str, type]:
    """Each public name of ``cls`` that precomputed's own code defines, with the class defining it.

    Names from numpy's ndarray (VolumeCutout, Vec) or from builtins are not ours to document.
    """
    members = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        if owner.__module__.startswith("precomputed"):
            members[name] = owner
    return members


def _is_field(owner: type, name: str) -> bool:
    """A slot (slots dataclass field, ``__slots__`` entry) or a NamedTuple field."""
    return isinstance(vars(owner)[name], types.MemberDescriptorType) or name in getattr(owner, "_fields", ())


def _declared(body: list[ast.stmt], self_name: str | None = None) -> dict[str, str | None]:
    """Names assigned in ``body`` (``self.<name>`` ones with ``self_name``), each with the
    string literal right after its assignment (its attribute docstring), or None."""
    found: dict[str, str | None] = {}
    for stmt, after in zip(body, [*body[1:], None]):
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        else:
            continue
        doc = None
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            doc = after.value.value if isinstance(after.value.value, str) else None
        for target in targets:
            # griffe lists no instance attribute set by a tuple assignment (self.a, self.b = ...).
            tuple_ok = self_name is None
            for node in target.elts if isinstance(target, ast.Tuple) and tuple_ok else [target]:
                if self_name is None and isinstance(node, ast.Name):
                    found[node.id] = doc
                elif (
                    self_name is not None
                    and isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == self_name
                ):
                    found[node.attr] = doc
    return found


def _parsed(obj: Any) -> ast.stmt:
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    return tree.body[0]


def _class_declarations(owner: type) -> dict[str, str | None]:
    node = _parsed(owner)
    assert isinstance(node, ast.ClassDef)
    return _declared(node.body)


def _init_declarations(cls: type) -> dict[str, str | None]:
    """The ``self.<name> = ...`` of ``cls``'s own ``__init__``: griffe lists them on ``cls``'s page."""
    init = vars(cls).get("__init__")
    if not inspect.isfunction(init) or dataclasses.is_dataclass(cls):  # a dataclass's is generated
        return {}
    node = _parsed(init)
    assert isinstance(node, ast.FunctionDef)
    return _declared(node.body, self_name="self")


def _first_line(doc: str) -> str:
    return inspect.cleandoc(doc).splitlines()[0]


def _runtime_problem(obj: Any) -> str | None:
    """Why ``help()`` would show nothing specific for ``obj`` (None if it would)."""
    doc = inspect.getdoc(obj)
    if not doc or not getattr(obj, "__doc__", None):
        return "no docstring of its own"
    if doc == inspect.getdoc(type(obj)):
        # A descriptor (AtMip...) documented only by its generic class docstring.
        return f"only its type's docstring, {type(obj).__name__}"
    return None


def _undocumented(cls: type) -> list[str]:
    members = _public_members(cls)
    declarations = {owner: _class_declarations(owner) for owner in set(members.values())}
    in_init = _init_declarations(cls)
    missing = []
    for name, owner in members.items():
        declared = declarations[owner]
        if _is_field(owner, name) or isinstance(vars(owner)[name], PLAIN_DATA):
            # Nothing at run time says more than the type: the literal after the declaration
            # (in the class body, or in the __init__ that sets it) must.
            if not (declared.get(name) or in_init.get(name) or "").strip():
                missing.append(f"{name} (no docstring after its declaration)")
            continue
        obj = getattr(cls, name)
        problem = _runtime_problem(obj)
        if problem:
            missing.append(f"{name} ({problem})")
        elif name in declared:
            # Declared by assignment: griffe shows the literal, help() the object's docstring.
            static, doc = declared[name] or "", inspect.getdoc(obj) or ""
            if not static.strip():
                missing.append(f"{name} (no docstring after its declaration in {owner.__name__})")
            elif _first_line(static) != _first_line(doc):
                missing.append(
                    f"{name} (declaration says {_first_line(static)!r}, object {_first_line(doc)!r})"
                )
    return missing


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_public_member_is_documented(cls: type) -> None:
    assert _public_members(cls), f"{cls.__name__} has no public members: the test finds none"
    assert _undocumented(cls) == []


def test_cloudvolume_instance_attributes_are_documented() -> None:
    """``vol.bounded``, ``vol.mesh``...: set in ``__init__``, shown by the reference with the literal after."""
    public = {
        name: doc for name, doc in _init_declarations(pc.CloudVolume).items() if not name.startswith("_")
    }
    assert {"bounded", "fill_missing", "cache", "mesh"} <= set(public)
    # Properties (vol.mip, vol.compress...) are documented on the class.
    assert [name for name, doc in public.items() if name not in dir(pc.CloudVolume) and not doc] == []


def test_update_alias_is_documented() -> None:
    """``Update`` is a type alias beside ``Store``: only the literal after it can document it."""
    module = inspect.getmodule(pc.Store)
    tree = ast.parse(inspect.getsource(module))
    doc = _declared(tree.body).get("Update")
    assert doc
    assert doc.strip()


def test_hookspecs_are_documented() -> None:
    specs = {
        name: fn
        for name, fn in vars(hookspecs).items()
        if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec")
    }
    assert set(specs) == {"precomputed_register_drivers", "precomputed_register_codecs"}
    assert [name for name, fn in specs.items() if not inspect.getdoc(fn)] == []


def test_generic_descriptor_docstring_does_not_count() -> None:
    """The check itself: a descriptor with only its class's docstring is undocumented."""
    from precomputed_core.frontend._properties import AtMip, LayerView

    def undocumented(view: LayerView, mip: int) -> int:
        return mip

    def documented(view: LayerView, mip: int) -> int:
        """The mip itself."""
        return mip

    descriptor = AtMip(undocumented)
    assert _runtime_problem(descriptor) == "no docstring of its own"
    descriptor.__doc__ = AtMip.__doc__
    assert _runtime_problem(descriptor) == "only its type's docstring, AtMip"
    assert _runtime_problem(AtMip(documented)) is None
