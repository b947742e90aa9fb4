"""Account holds: a credential renewed before a send, a held or expired account stopped.

An account that cannot post (a refused renewal, a credential past its end, a hold a
person must lift) parks its publications unsent; `crosspost resume` lifts the hold.
"""

from __future__ import annotations

from connectors.base import AccountHeld, Connector, NeedsPerson, PublishError
from pipeline.accounts import renew_step
from pipeline.errors import TargetNotFound
from pipeline.logs import redact_also
from pipeline.publishing.drafting import Drafting
from pipeline.publishing.wiring import Wiring


class Holds:
    def __init__(self, wiring: Wiring, drafting: Drafting) -> None:
        self.wiring = wiring
        self.drafting = drafting

    def gate(self, target: str, connector: Connector) -> None:
        """Before anything is sent: renew a credential that is due, and stop at a hold or
        at a credential known to have expired (`AccountHeld`)."""
        accounts = self.wiring.accounts
        try:
            renewed = accounts.refresh_if_due(connector)
        except NeedsPerson as exc:  # the platform refused the refresh: a person signs in again
            raise AccountHeld(str(exc), next_step=exc.next_step) from None
        if renewed:
            self.redact_also(connector)
        accounts.life(connector)  # a credential seen for the first time starts its clock
        hold = accounts.held(target)
        if hold is not None:
            raise AccountHeld(hold["reason"], next_step=hold["next_step"])
        expires = accounts.expires_at(target)
        if expires is not None and expires <= self.wiring.now():
            reason = (
                f"the {connector.platform} credentials of {target} expired on {expires:%Y-%m-%d}"
            )
            raise AccountHeld(reason, next_step=renew_step(connector), expired_credential=True)

    def redact_also(self, connector: Connector) -> None:
        """A renewed secret is redacted everywhere from now on, like the configured ones."""
        values = [v.get_secret_value() for v in connector.account.credentials.values()]
        store = self.wiring.store
        store.secrets = [*store.secrets, *(v for v in values if v)]
        redact_also(values)

    def resume(self, target: str) -> int:
        """The operator fixed the account: lift the hold, and what it held is due now."""
        if target not in self.wiring.settings.targets:
            raise TargetNotFound(f"no target {target!r} in the settings")
        self.wiring.accounts.release(target)
        ids = self.wiring.store.resume_held(target, self.wiring.now())
        self.wiring.arm(ids)
        return len(ids)

    def watch(self) -> None:
        """Renew what is due and warn of expiries ahead (7 days, 1 day), once each."""
        wiring = self.wiring
        for name, target in wiring.settings.targets.items():
            if not target.enabled:
                continue
            connector = self.drafting.connector(name)
            try:
                if wiring.accounts.refresh_if_due(connector):
                    self.redact_also(connector)
            except PublishError as exc:
                wiring.log.warning("credential refresh failed", target=name, error=str(exc))
            for days in wiring.accounts.warnings_due(connector):
                health = wiring.accounts.health(connector)
                wiring.notifier.notify(
                    f"{name}: credentials expire within {days} day{'s' if days > 1 else ''}",
                    f"{health.detail}\nnext step: {health.next_step}",
                    target=name,
                )
                wiring.log.warning("credentials expire soon", target=name, detail=health.detail)
