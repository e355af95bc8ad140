"""Provers: a real engine of the field checks a rewrite before it is written.

A scanner reads one file; some files mean something only together with others. A chart's
values are rendered by its templates (Helm), an overlay's `images:` apply to its bases
(kustomize). A prover names the unit a file belongs to and, given the planned rewrite of every
file of that unit in this run (the others as they are on disk), renders the unit before and
after and objects where the result is wrong. The engine holds back the rewrites of every file
a prover claims until the prover has ruled on its unit, and writes none that it blocked.

Each prover module has the same names (the `Prover` protocol):

    NAME: str
    unit(path, repo) -> Path | None            the unit `path` belongs to, or None (not mine)
    prove(unit, changes, repo) -> Iterator[Objection]

A new prover is one module here plus one line in `registry.PROVERS`; what they share (the
`Prover` protocol, `Change`, `Objection`) is in `protocol`.
"""
