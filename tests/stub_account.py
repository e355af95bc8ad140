"""An AccountView for assess(): the account's answers as plain data, no AWS."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from migrate.aws.account import AccountRule
from migrate.aws.templates import Scanning, Template


@dataclass
class StubAccount:
    rules: tuple[AccountRule, ...] = ()
    template_list: tuple[Template, ...] = ()
    scan: Scanning = field(default_factory=lambda: Scanning("BASIC", ()))
    failures: dict[str, Exception] = field(default_factory=dict)  # method name -> raised
    lacking: frozenset[str] = frozenset()  # actions the principal's policies do not allow
    denying: frozenset[str] = frozenset()  # actions a policy denies outright
    validations: dict[str, str | None] = field(default_factory=dict)
    asked: list[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = field(default_factory=list)

    def _fail(self, name: str) -> None:
        if name in self.failures:
            raise self.failures[name]

    def validate(self, prefixes: Iterable[str]) -> dict[str, str | None]:
        self._fail("validate")
        return {p: self.validations.get(p) for p in prefixes}

    def templates(self) -> tuple[Template, ...]:
        self._fail("templates")
        return self.template_list

    def scanning(self) -> Scanning:
        self._fail("scanning")
        return self.scan

    def simulate(
        self, principal: str, asked: Sequence[tuple[str, tuple[str, ...]]]
    ) -> dict[tuple[str, str], str]:
        self._fail("simulate")
        self.asked.append((principal, tuple(asked)))
        decisions = {}
        for resource, actions in asked:
            for action in actions:
                if action in self.denying:
                    decisions[(resource, action)] = "explicitDeny"
                elif action in self.lacking:
                    decisions[(resource, action)] = "implicitDeny"
                else:
                    decisions[(resource, action)] = "allowed"
        return decisions
