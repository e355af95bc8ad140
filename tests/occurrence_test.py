"""Occurrence: a record of thirteen fields in seven slots (bench/dense.py holds 10^5 of them)."""

from __future__ import annotations

import dataclasses

import pytest

from migrate.occurrence import Occurrence, Part, set_beside

_RARE = {
    "code": "PTC012",
    "note": "from .env",
    "kept": "why not",
    "credentials": False,
    "before_login": "a docker:// step",
    "package": "crossplane/provider",
    "beside": ("PTC016", "sets it"),
}


def test_every_field_is_kept_and_replaced_by_name() -> None:
    occ = Occurrence("image", "nginx:1", (Part("ref", 7, 14),), 7, 14, "why", **_RARE)

    assert {name: getattr(occ, name) for name in _RARE} == _RARE
    assert [f.name for f in dataclasses.fields(Occurrence)][:6] == [
        "kind",
        "written",
        "parts",
        "at",
        "end",
        "unresolved",
    ]
    for name in _RARE:  # each one changed, the others kept
        changed = dataclasses.replace(occ, **{name: None})
        assert getattr(changed, name) is None
        assert all(getattr(changed, o) == v for o, v in _RARE.items() if o != name)
        assert (changed.kind, changed.written, changed.unresolved) == ("image", "nginx:1", "why")
    assert dataclasses.replace(occ) == occ
    assert hash(dataclasses.replace(occ)) == hash(occ)


def test_equal_only_with_every_field_equal() -> None:
    plain = Occurrence("image", "nginx:1", (), 0, 7)

    assert plain == Occurrence("image", "nginx:1", (), 0, 7, None, code=None)
    for name, value in _RARE.items():
        assert plain != dataclasses.replace(plain, **{name: value})
    assert "beside=None" in repr(plain)


def test_frozen() -> None:
    occ = Occurrence("image", "nginx:1", (), 0, 7)

    for name in ("kind", "parts", "note", "beside"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(occ, name, None)


def test_set_beside_in_place_keeps_the_other_rare_fields() -> None:
    occ = Occurrence("image-map", "nginx:1", (), 0, 7, note="n", kept="k")
    parts = (Part("ref", 0, 7), Part("allow", 20, 25))

    set_beside(occ, parts, ("PTC016", "sets it"))

    assert occ == Occurrence(
        "image-map", "nginx:1", parts, 0, 7, note="n", kept="k", beside=("PTC016", "sets it")
    )


def test_an_occurrence_without_rare_fields_is_small() -> None:
    """Seven slots: a slot per field was 48 bytes more per occurrence."""
    occ = Occurrence("image", "nginx:1", (), 0, 7)

    assert Occurrence.__basicsize__ == object.__basicsize__ + 7 * 8
    assert not hasattr(occ, "__dict__")


def test_set_beside_shares_what_it_sets_among_occurrences() -> None:
    """A guarded values file sets the same `beside` on 10^5 occurrences: one record of rare
    fields for all of them, not one each (which outweighed the slots saved)."""
    beside = ("PTC017", "a Bitnami-style image")
    found = [Occurrence("image", f"nginx:{n}", (), n, n + 7) for n in range(3)]
    for occ in found:
        set_beside(occ, (Part("ref", occ.at, occ.end),), beside)

    assert [occ.beside for occ in found] == [beside] * 3
    assert len({id(occ._rare) for occ in found}) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "occ",
    [
        Occurrence("image", "nginx:1", (Part("ref", 7, 14),), 7, 14),
        Occurrence("image", "nginx:1", (), 7, 14, "why", **_RARE),
        Occurrence("image", "nginx:1", (), 7, 14, code="PTC012"),
    ],
    ids=["common", "every-rare-field", "one-rare-field"],
)
def test_pickled_and_copied_as_its_fields(occ: Occurrence) -> None:
    """A pool worker's results cross a pipe pickled, and records get copied: the frozen slots
    must come back whole, not through the frozen `__setattr__`."""
    import copy
    import pickle

    for again in (pickle.loads(pickle.dumps(occ)), copy.copy(occ), copy.deepcopy(occ)):
        assert again == occ and hash(again) == hash(occ)
        assert {name: getattr(again, name) for name in _RARE} == {
            name: getattr(occ, name) for name in _RARE
        }
