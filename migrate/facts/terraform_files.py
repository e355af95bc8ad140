"""Container definitions a Terraform module keeps in a file of their own:
`container_definitions = file("${path.module}/containers.json")` or
`templatefile("${path.module}/containers.json.tftpl", {...})` in an `aws_ecs_task_definition`
(and `container_properties` of an `aws_batch_job_definition`). The ECS kind reads the files
named so as container definitions, whatever their names (`migrate.kinds.ecs_task_definition`).
https://developer.hashicorp.com/terraform/language/functions/templatefile
"""

from __future__ import annotations

import posixpath
import re

from migrate.context import Repo

# A literal path argument: `${path.module}/` or `${path.root}/` ahead of it, nothing else
# interpolated (a computed path cannot be followed).
_CALL = re.compile(
    r"""\b(?:container_definitions|container_properties)\s*=\s*(?:file|templatefile)\(\s*"""
    r'''"(?P<base>\$\{path\.(?:module|root)\}/)?(?P<path>[^"$]+)"'''
)
_MAX_SIZE = 1024 * 1024  # a .tf file past this is generated, not a module to follow
_MAX_FILES = 2000  # .tf files read for this fact; a monorepo of more is not searched further


def of(repo: Repo) -> frozenset[str]:
    """Repository-relative paths of the files `repo`'s .tf files read as container
    definitions, computed once per run."""
    return repo.memo(of, lambda: _named(repo))


def _named(repo: Repo) -> frozenset[str]:
    found: set[str] = set()
    root = repo.root
    modules = [rel for rel in repo.files if rel.endswith(".tf")][:_MAX_FILES]
    for rel in modules:
        try:
            path = root / rel
            if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_SIZE:
                continue
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if "container_" not in text:
            continue
        directory = posixpath.dirname(rel)
        for call in _CALL.finditer(text):
            # `${path.module}` is the .tf file's directory; so is a plain relative path for the
            # root module Terraform runs in, the common case (and `${path.root}` there).
            target = posixpath.normpath(posixpath.join(directory, call["path"]))
            if not target.startswith("../") and target != ".." and not target.startswith("/"):
                found.add(target)
    return frozenset(found)
