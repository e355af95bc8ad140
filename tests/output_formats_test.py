"""The one registry of output formats (`migrate.output.formats`): every name offered is
rendered, and every renderer is offered, for each subject; `--format` lists exactly those."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from migrate import cli
from migrate.output import formats
from migrate.output import report as findings_output
from migrate.output import rules as rules_output
from migrate.output import warm as warm_output

RENDERERS = {
    "findings": findings_output.FORMATTERS,
    "rules": rules_output.FORMATTERS,
    "warm": warm_output.FORMATTERS,
}


@pytest.mark.parametrize("subject", sorted(formats.NAMES))
def test_each_subject_renders_exactly_the_names_it_offers(subject: str) -> None:
    assert set(RENDERERS[subject]) == set(formats.NAMES[subject])
    accessor = getattr(formats, subject)
    for name in formats.NAMES[subject]:
        assert accessor(name) is RENDERERS[subject][name]


@pytest.mark.parametrize(
    ("command", "subject"),
    [(["scan"], "findings"), (["lint"], "findings"), (["rules", "check"], "rules"),
     (["warm"], "warm")],
)  # fmt: skip
def test_help_lists_the_formats_the_command_accepts(command: list[str], subject: str) -> None:
    done = CliRunner().invoke(cli.cli, [*command, "--help"])
    assert done.exit_code == 0, done.output
    offered = done.output.split("--format [", 1)[1].split("]", 1)[0].split("|")
    assert sorted(offered) == sorted(formats.NAMES[subject])
