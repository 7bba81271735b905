"""Sending one-time links: by SMTP when MAIL_SERVER is set.

Never writes a message's body to the log (it holds a working link). ``send`` returns whether
the message left, so the admin who asked can be shown the link when it did not;
``send_in_background`` answers at once, so a page that sends mail only for existing accounts
takes the same time whether or not the account exists.
"""
from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage

from flask import current_app


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def send(to: str, subject: str, body: str) -> bool:
    config = current_app.config
    if not configured():
        current_app.logger.info("Mail is not configured; “%s” to %s was not sent.", subject, to)
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
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.error("Sending “%s” to %s failed: %s", subject, to, exc)
        return False
    return True


def send_in_background(to: str, subject: str, body: str) -> threading.Thread:
    """Send on a thread of its own, with this application's configuration."""
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            send(to, subject, body)

    thread = threading.Thread(target=run, name="matrica-mail", daemon=True)
    thread.start()
    return thread
