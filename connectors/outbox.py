"""The outbox: a dry run of any platform, writing the exact requests to `outbox/<target>/`.

Option `as` names the platform whose payload is rendered (default: plain JSON of the essay
summary). Nothing leaves the machine; each post is one JSON file named by its key, so a
retry finds the file it already wrote and never writes a second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.local_files import home_folder, write_atomic
from pipeline.document import Essay, summarize


class Outbox(Connector):
    platform: ClassVar[str] = "outbox"
    kind: ClassVar[Kind] = Kind.SOCIAL
    dedupe: ClassVar[Dedupe] = Dedupe.RECORD_KEY
    can_edit: ClassVar[bool] = True

    @classmethod
    def kind_for(cls, options: Mapping[str, Any]) -> Kind:
        imitated = options.get("as")
        if imitated:
            from connectors import connector_class

            return connector_class(imitated).kind
        return Kind(options.get("kind", Kind.SOCIAL))

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        imitated = ctx.options.get("as")
        if imitated:
            from connectors import connector_class

            draft = connector_class(imitated).render(essay, ctx)
            return draft.model_copy(update={"platform": cls.platform, "target": ctx.target})
        body = {"essay": summarize(essay), "link": ctx.link}
        return cls.draft(essay, ctx, request=body)

    def folder(self) -> Path:
        return home_folder(self.account.home, "outbox") / self.account.name

    def path_for(self, key: str) -> Path:
        return self.folder() / f"{key}.json"

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        path = self.path_for(key)
        document = {
            "target": draft.target,
            "key": key,
            "reply_to": chain[-1].id if chain else None,
            "request": post.request,
        }
        write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return Remote(id=key, url=path.as_uri())

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        path = self.path_for(key)
        return Remote(id=key, url=path.as_uri()) if path.exists() else None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        return self.create_post(draft.posts[0], remote.id, [], draft)

    def delete(self, remote: Remote) -> None:
        self.path_for(remote.id).unlink(missing_ok=True)

    def verify(self) -> str:
        self.folder().mkdir(parents=True, exist_ok=True)
        return f"writes to {self.folder()}"
