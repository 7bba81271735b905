"""Sending one-time links: by SMTP when MAIL_SERVER is set, otherwise into the log.

Returns whether the message left by mail, so the admin who asked can be shown the link
when it did not.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def send(to: str, subject: str, body: str) -> bool:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        current_app.logger.warning("Mail not configured; message to %s: %s\n%s", to, subject, body)
        return False
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("Sending mail to %s failed; message: %s\n%s", to, subject, body)
        return False
    return True
