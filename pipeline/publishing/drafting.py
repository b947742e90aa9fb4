"""Connectors at hand, and a claimed publication rendered into the draft it sends.

One connector per target, built on first use from the settings and the account book and
kept until the settings change. Rendering is the connector's pure `render`, given what
only the store knows: the URL of the post it links, and the essay's copies elsewhere.
"""

from __future__ import annotations

from connectors import connector_class
from connectors.base import Account, Connector, Draft, RenderContext
from pipeline.document import Essay
from pipeline.links import announced_link
from pipeline.publishing.planner import target_options
from pipeline.publishing.wiring import Wiring
from pipeline.store.models import PublicationRow
from pipeline.syndication import copies_for_render, shows_syndication
from pipeline.timezones import with_author_times


class Drafting:
    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self.connectors: dict[str, Connector] = {}

    def connector(self, target: str) -> Connector:
        """The target's connector, on the pipeline's clock."""
        if target not in self.connectors:
            settings = self.wiring.settings.targets[target]
            account = Account(
                name=target,
                platform=settings.platform,
                options=settings.options,
                credentials=self.wiring.accounts.credentials(target, settings.credentials),
                base_url=settings.base_url,
                home=str(self.wiring.home),
                timeout=settings.timeout_seconds,
                configured=settings.credentials,
            )
            connector = connector_class(settings.platform)(account)
            connector.clock = self.wiring.now
            self.connectors[target] = connector
        return self.connectors[target]

    def essay_of(self, row: PublicationRow) -> Essay:
        essay_row = self.wiring.store.essay(row.essay_id)
        assert essay_row is not None
        return Essay.model_validate_json(essay_row.essay_json)

    def render(self, row: PublicationRow, essay: Essay) -> Draft:
        """The exact requests this publication sends now (what `crosspost preview` shows)."""
        wiring = self.wiring
        connector = self.connector(row.target)
        essay = with_author_times(essay, wiring.settings.zone)
        link = slot = None
        if row.depends_on:
            dependency = wiring.store.publication(row.depends_on)
            link = dependency.remote_url if dependency else None
            if dependency is not None:  # composed around the placeholder preview showed
                slot = announced_link(
                    wiring.settings, essay, row.target, wiring.home, dependency.target
                ).slot
        # `now` lets a pure render decide "scheduled on the platform" vs "publish now"
        options = {**target_options(wiring.settings, essay, row.target), "now": wiring.now()}
        if shows_syndication(row.platform):  # POSSE: the page lists the essay's copies
            options["syndication"] = copies_for_render(wiring.store, row.essay_id)
        ctx = RenderContext(
            target=row.target,
            options=options,
            link=link or essay.canonical_url,
            limits=connector.fetch_limits(),
            link_slot=slot,
        )
        return type(connector).render(essay, ctx)
