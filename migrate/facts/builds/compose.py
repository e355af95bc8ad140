"""Compose: a service with `build:` builds the image its `image:` names (resolved from the
`.env` beside the file, as Compose would).

https://docs.docker.com/reference/compose-file/build/#using-build-and-image
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from migrate.context import Repo
from migrate.occurrence import ScanError
from migrate.syntax import dotenv

TOOL = "Compose"


def names(path: Path, text: str, repo: Repo) -> Iterator[tuple[str, int]]:
    if "build" not in text:
        return
    # The YAML reader and the Compose kind only when a Compose file builds: the build index
    # is read on every run, a hook's on a Dockerfile too.
    from migrate.kinds import compose
    from migrate.syntax import yaml as _yaml
    from migrate.syntax.yaml import fields, string

    try:
        docs = _yaml.documents(text)
    except ScanError:
        return
    env = None
    for service in compose.services(docs):
        # Its own `image:` only: one merged in from an anchor (`<<: *base`) is shared with
        # the services that pull it, and names what they pull.
        own = {k.value: v for k, v in service.pairs if isinstance(k, _yaml.Scalar)}
        image = string(own.get("image"))
        if image is None or "build" not in fields(service):
            continue
        value: str | None = image.value
        if "$" in image.value:
            env = env or dotenv.beside(path.parent, repo) or dotenv.DotEnv(None, {})
            value = dotenv.interpolate(image.value, env.get)
        if value:
            yield value, text.count("\n", 0, image.start) + 1
