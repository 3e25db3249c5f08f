"""What the compatibility checker reports: the compatibility modes, each ``Difference``
between two schemas, and each ``Breaking`` one a mode refuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

Mode = Literal["NONE", "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"]
MODES: Final[tuple[Mode, ...]] = (
    "NONE",
    "BACKWARD",
    "FORWARD",
    "FULL",
    "BACKWARD_TRANSITIVE",
    "FORWARD_TRANSITIVE",
    "FULL_TRANSITIVE",
)
Direction = Literal["BACKWARD", "FORWARD"]

UNANALYSED: Final = "unanalysed-change"
CANNOT_PROVE: Final = "ns-root cannot prove either direction, so it counts as breaking both"


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference between two schemas that changes which documents are accepted."""

    pointer: str  # RFC 6901 pointer into the new schema (for something removed: where it was)
    change: str  # human text
    narrowing: bool  # a document valid under the old schema is rejected by the new one: breaks BACKWARD
    widening: bool  # a document valid under the new schema is rejected by the old one: breaks FORWARD
    rule: str  # stable slug naming the rule


@dataclass(frozen=True, slots=True)
class Breaking:
    """A difference that the configured mode refuses, in one direction, against one version."""

    pointer: str
    change: str
    rule: str
    mode: Mode  # the configured mode
    against: int  # the earlier version compared with
    direction: Direction  # which side it breaks: BACKWARD (narrowing) or FORWARD (widening)

    def message(self) -> str:
        where = self.pointer or "(root)"
        if self.direction == "BACKWARD":
            why = f"BACKWARD: documents valid under version {self.against} would be rejected"
        else:
            why = f"FORWARD: documents valid under the new schema would be rejected by version {self.against}"
        return f"{where}: {self.change} ({why})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "pointer": self.pointer,
            "change": self.change,
            "rule": self.rule,
            "mode": self.mode,
            "direction": self.direction,
            "version": self.against,
            "message": self.message(),
        }
