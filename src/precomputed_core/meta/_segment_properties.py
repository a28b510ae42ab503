"""Segment properties (segment_properties.md): labels, descriptions, tags and numbers by segment id.

Only inline properties exist: one ``info`` JSON holding every id and, for each
property, one value per id. ``properties_document`` builds and checks that
document; ``properties_by_id`` turns it around, into ``{segid: {name: value}}``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InfoValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "SEGMENT_PROPERTIES_TYPE",
    "properties_by_id",
    "properties_document",
    "validate_segment_properties",
]

SEGMENT_PROPERTIES_TYPE = "neuroglancer_segment_properties"
_TYPES = ("label", "description", "string", "tags", "number")
_ONCE = ("label", "description", "tags")
_NUMBER_TYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32")


def _fail(where: str, message: str) -> InfoValidationError:
    return InfoValidationError(f"{where}: {message}")


def _check_property(prop: Any, count: int, where: str) -> None:
    if not isinstance(prop, dict):
        raise _fail(where, "each property must be a JSON object")
    kind = prop.get("type")
    if kind not in _TYPES:
        raise _fail(where, f"type must be one of {', '.join(_TYPES)}, got {kind!r}")
    if not isinstance(prop.get("id"), str) or not prop["id"]:
        raise _fail(where, "each property needs a non-empty string 'id'")
    values = prop.get("values")
    if not isinstance(values, list) or len(values) != count:
        raise _fail(where, f"'values' must be a list of one value per id ({count})")
    if ("tags" in prop) != (kind == "tags") or ("tag_descriptions" in prop and kind != "tags"):
        raise _fail(where, "'tags' and 'tag_descriptions' belong to (and only to) a tags property")
    if kind == "tags" and "description" in prop:
        raise _fail(where, "a tags property may not have a 'description'")
    if ("data_type" in prop) != (kind == "number"):
        raise _fail(where, "'data_type' belongs to (and only to) a number property")
    if kind in ("label", "description", "string"):
        if not all(isinstance(v, str) for v in values):
            raise _fail(where, f"every value of a {kind} property must be a string")
    elif kind == "number":
        _check_numbers(prop, values, where)
    else:
        _check_tags(prop, values, where)


def _check_numbers(prop: dict[str, Any], values: list[Any], where: str) -> None:
    data_type = prop["data_type"]
    if data_type not in _NUMBER_TYPES:
        raise _fail(where, f"data_type must be one of {', '.join(_NUMBER_TYPES)}, got {data_type!r}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise _fail(where, "every value of a number property must be a number")
    if not all(math.isfinite(v) for v in values):  # JSON has no NaN or infinity
        raise _fail(where, "number values must be finite")
    if data_type != "float32":
        limits = np.iinfo(data_type)
        bad = [v for v in values if not (float(v).is_integer() and limits.min <= v <= limits.max)]
        if bad:
            raise _fail(where, f"{bad[0]!r} is not a {data_type}")
    elif any(abs(v) > np.finfo(np.float32).max for v in values):
        raise _fail(where, "a float32 value is past float32's range")


def _check_tags(prop: dict[str, Any], values: list[Any], where: str) -> None:
    tags = prop["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t and " " not in t for t in tags):
        raise _fail(where, "'tags' must be a list of non-empty strings without spaces")
    if any(t.startswith("#") for t in tags):
        raise _fail(where, "tags are written without their leading '#'")
    if len({t.lower() for t in tags}) != len(tags):
        raise _fail(where, "tags must differ (they match case-insensitively)")
    described = prop.get("tag_descriptions")
    if described is not None and (
        not isinstance(described, list)
        or len(described) != len(tags)
        or not all(isinstance(d, str) for d in described)
    ):
        raise _fail(where, "'tag_descriptions' must be one string per tag")
    for value in values:
        if (
            not isinstance(value, list)
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(tags) for i in value)
            or value != sorted(set(value))
        ):
            raise _fail(where, f"a tags value must list tag indexes in increasing order, got {value!r}")


def validate_segment_properties(document: Any, where: str = "segment_properties info") -> None:
    """Check a segment properties ``info`` against the spec; raise ``InfoValidationError`` saying why."""
    if not isinstance(document, dict) or document.get("@type") != SEGMENT_PROPERTIES_TYPE:
        raise _fail(where, f"must be a JSON object with '@type': '{SEGMENT_PROPERTIES_TYPE}'")
    inline = document.get("inline")
    if inline is None:
        return
    if not isinstance(inline, dict):
        raise _fail(where, "'inline' must be a JSON object")
    ids = inline.get("ids")
    if not isinstance(ids, list) or not all(
        isinstance(i, str) and i.isascii() and i.isdigit() and int(i) < 2**64 for i in ids
    ):
        raise _fail(where, "'inline.ids' must be a list of base-10 segment id strings")
    if len(set(ids)) != len(ids):
        raise _fail(where, "'inline.ids' lists an id twice")
    props = inline.get("properties")
    if not isinstance(props, list):
        raise _fail(where, "'inline.properties' must be a list")
    for i, prop in enumerate(props):
        _check_property(prop, len(ids), f"{where}: property {i}")
    names = [p["id"] for p in props]
    if len(set(names)) != len(names):
        raise _fail(where, "property ids must be unique")
    for kind in _ONCE:
        if sum(p["type"] == kind for p in props) > 1:
            raise _fail(where, f"at most one property may have type {kind!r}")


def properties_by_id(document: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """``{segid: {property id: value}}``; tags are given as their names."""
    inline = document.get("inline") or {"ids": [], "properties": []}
    out: dict[int, dict[str, Any]] = {int(i): {} for i in inline["ids"]}
    for prop in inline["properties"]:
        for segid, stored in zip(out, prop["values"]):
            value = stored
            if prop["type"] == "tags":
                value = [prop["tags"][i] for i in stored]
            elif prop["type"] == "number" and prop["data_type"] != "float32":
                value = int(stored)
            out[segid][prop["id"]] = value
    return out


def properties_document(properties: Mapping[Any, Mapping[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    """A validated segment properties ``info``, from a finished document or from ``{segid: {name: value}}``.

    In the second form a property's type comes from its name and values: ``label``,
    ``description`` and ``tags`` (lists of tag names) are those types; other
    strings are ``string`` properties; numbers are ``number``, int32 or float32
    as their values need. Every segment must give every property.
    """
    if isinstance(properties, dict) and "@type" in properties:
        document = dict(properties)
    else:
        document = _from_keyed(properties)  # type: ignore[arg-type]
    validate_segment_properties(document)
    return document


def _from_keyed(properties: Mapping[Any, Mapping[str, Any]]) -> dict[str, Any]:
    ids = sorted(int(s) for s in properties)
    rows = {int(s): dict(v) for s, v in properties.items()}
    names = list(dict.fromkeys(name for segid in ids for name in rows[segid]))
    props = []
    for name in names:
        missing = [s for s in ids if name not in rows[s]]
        if missing:
            raise InfoValidationError(
                f"segment {missing[0]} has no value for property {name!r}; give every segment one"
            )
        values = [rows[s][name] for s in ids]
        props.append(_typed(name, values))
    return {"@type": SEGMENT_PROPERTIES_TYPE, "inline": {"ids": [str(i) for i in ids], "properties": props}}


def _typed(name: str, values: list[Any]) -> dict[str, Any]:
    if name == "tags" or all(isinstance(v, list | tuple) for v in values):
        if not all(isinstance(v, list | tuple | set) for v in values):
            raise InfoValidationError(f"property {name!r} holds tags: give each segment a list of tag names")
        tags = sorted({str(t) for v in values for t in v}, key=str.lower)
        index = {t: i for i, t in enumerate(tags)}
        return {
            "id": name,
            "type": "tags",
            "tags": tags,
            "values": [sorted({index[str(t)] for t in v}) for v in values],
        }
    if all(isinstance(v, str) for v in values):
        kind = name if name in ("label", "description") else "string"
        return {"id": name, "type": kind, "values": values}
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values):
        integral = all(float(v).is_integer() for v in values)
        fits = integral and all(-(2**31) <= v < 2**31 for v in values)
        data_type = "int32" if fits else "float32"
        cast = int if fits else float
        return {"id": name, "type": "number", "data_type": data_type, "values": [cast(v) for v in values]}
    raise InfoValidationError(
        f"property {name!r} mixes kinds of values; use all strings, all numbers or all tag lists"
    )
