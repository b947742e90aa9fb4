"""Tell the operator when a publication needs a person: webhook and/or e-mail.

Notification failures are logged and swallowed: a broken mail server must never stop
publishing, and the state is always visible in `crosspost status` anyway.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import requests

from pipeline.logs import get_logger
from pipeline.settings import NotifySettings


class Notifier:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.log = get_logger(component="notify")

    def notify(self, subject: str, body: str, **fields: object) -> None:
        if self.settings.webhook_url:
            self._webhook(subject, body, fields)
        if self.settings.smtp_host and self.settings.mail_to:
            self._mail(subject, body)

    def _webhook(self, subject: str, body: str, fields: dict[str, object]) -> None:
        try:
            response = requests.post(
                self.settings.webhook_url or "",
                json={"subject": subject, "text": body, **fields},
                timeout=(5, 10),
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            self.log.warning("webhook notification failed", error=type(exc).__name__)

    def _mail(self, subject: str, body: str) -> None:
        message = EmailMessage()
        message["Subject"] = f"[crosspost] {subject}"
        message["From"] = self.settings.mail_from
        message["To"] = ", ".join(self.settings.mail_to)
        message.set_content(body)
        try:
            with smtplib.SMTP(
                self.settings.smtp_host or "", self.settings.smtp_port, timeout=10
            ) as smtp:
                if self.settings.smtp_starttls:
                    smtp.starttls()
                if self.settings.smtp_user and self.settings.smtp_password:
                    smtp.login(
                        self.settings.smtp_user, self.settings.smtp_password.get_secret_value()
                    )
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            self.log.warning("mail notification failed", error=type(exc).__name__)
