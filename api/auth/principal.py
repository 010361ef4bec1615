"""Who is asking, and which sites they may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from api.public import MIN_PUBLIC_FIRMS

__all__ = ["MIN_PUBLIC_SITES", "PUBLIC", "Principal", "Role"]

MIN_PUBLIC_SITES = MIN_PUBLIC_FIRMS
"""A district total shown to the public must add up at least this many firms (api/public.py)."""


class Role(StrEnum):
    OPERATOR = "operator"
    """The whole district; may send manual setpoints and override plans."""
    SITE_MANAGER = "site_manager"
    """Their own sites; may acknowledge alerts there."""
    PUBLIC = "public"
    """District aggregates only, never a single firm's data."""
    AUTHORITY = "authority"
    """The municipality or region: district aggregates through the public rule, like the public,
    and the district's targets, which it proposes to the operator and agrees with it (either party
    proposes, the other agrees); never a single firm's data."""


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    sites: frozenset[str] = frozenset()
    """The sites of a site manager; ignored for the other roles."""
    expires_at_s: int | None = None
    """When the credentials end (a JWT's ``exp``, epoch s); None: they do not (API tokens)."""

    @property
    def district_only(self) -> bool:
        """Sees district figures only, each through the public rule (api/public.py)."""
        return self.role in (Role.PUBLIC, Role.AUTHORITY)

    @property
    def may_set_targets(self) -> bool:
        """May propose targets and answer the other party's proposals (nzd/targets/_agreement.py)."""
        return self.role in (Role.OPERATOR, Role.AUTHORITY)

    def may_see_site(self, site: str) -> bool:
        if self.role is Role.OPERATOR:
            return True
        return self.role is Role.SITE_MANAGER and site in self.sites

    def visible_sites(self, all_sites: list[str]) -> list[str]:
        return [s for s in all_sites if self.may_see_site(s)]

    def hidden_indexes(self, site_ids: Sequence[str]) -> tuple[int, ...] | None:
        """Indexes in ``site_ids`` of the sites whose contributions a district figure must protect
        from this viewer (``api.public.viewer_figure``): None for the operator, who sees plain
        totals; every site for the public and the authority; the other firms for a site manager,
        who could subtract their own figures from a district total."""
        if self.role is Role.OPERATOR:
            return None
        return tuple(i for i, s in enumerate(site_ids) if not self.may_see_site(s))


PUBLIC = Principal(name="public", role=Role.PUBLIC)
"""Anyone without credentials."""
