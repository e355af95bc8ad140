"""Kustomize as repository facts: what each kustomization reads (`model`), the graph of a
repository's kustomizations (`graph`, `graph.of`), which images each `images[].name` matches
(`flow`), patch texts (`patches`), and `kubectl kustomize` (`build`).

The rule they serve: `images[].name` is what kustomize matches, literally, against the images of
a kustomization's resources (https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/).
A rewrite must leave every override applying to the very images it applied to before.
"""
