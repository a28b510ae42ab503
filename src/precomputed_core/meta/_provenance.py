"""The layer's ``provenance`` document: where the data came from and what made it."""

from __future__ import annotations

import json
from typing import Any

from ..exceptions import InfoValidationError

__all__ = ["Provenance"]

_LIST_FIELDS = {"sources": str, "owners": str, "processing": dict}


class Provenance(dict):  # type: ignore[type-arg]
    """A dict with cloud-volume's provenance fields, also readable as attributes.

    Fields: ``description`` (str), ``sources`` (list of str, e.g. cloud
    paths), ``owners`` (list of str, e.g. emails), ``processing`` (list of
    dicts describing each step). Extra keys are kept as they are.

    Examples
    --------
    >>> p = Provenance()
    >>> p.description = "EM of a mouse retina"
    >>> p.processing.append({"method": "align", "by": "me@lab.org"})
    >>> p.validate()
    >>> sorted(p)
    ['description', 'owners', 'processing', 'sources']
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setdefault("description", "")
        for name in _LIST_FIELDS:
            self.setdefault(name, [])

    @staticmethod
    def _parsed(value: Any) -> dict[str, Any]:
        if isinstance(value, str | bytes):
            try:
                value = json.loads(value)
            except ValueError as err:
                raise InfoValidationError(f"provenance is not valid JSON: {err}") from err
        if not isinstance(value, dict):
            raise InfoValidationError(
                f"provenance must be a dict or its JSON text, got {type(value).__name__}"
            )
        return value

    @classmethod
    def coerce(cls, value: Any) -> Provenance:
        """A checked provenance from a dict or its JSON text (as the constructor's
        ``provenance=`` takes it)."""
        provenance = cls(cls._parsed(value))
        provenance.validate()
        return provenance

    def serialize(self) -> str:
        """The document as JSON text (cloud-volume's name)."""
        return json.dumps(self)

    def from_json(self, data: str | bytes) -> Provenance:
        """Merge the fields of a JSON document into this one; returns it (cloud-volume's name)."""
        given = self._parsed(data)
        Provenance({**self, **given}).validate()
        self.update(given)
        return self

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def validate(self) -> None:
        """Raise ``InfoValidationError`` if a field has the wrong type."""
        if not isinstance(self["description"], str):
            raise InfoValidationError("provenance.description must be a string")
        for name, item_type in _LIST_FIELDS.items():
            value = self[name]
            if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
                raise InfoValidationError(
                    f"provenance.{name} must be a list of {item_type.__name__}, got {value!r}"
                )
