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

from app.services.settings import application, logger, setting


def configured() -> bool:
    return bool(setting("MAIL_SERVER"))


def send(to: str, subject: str, body: str) -> bool:
    if not configured():
        logger().info("Mail is not configured; “%s” to %s was not sent.", subject, to)
        return False
    message = EmailMessage()
    message["From"] = setting("MAIL_SENDER")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(setting("MAIL_SERVER"), int(setting("MAIL_PORT")), timeout=10) as smtp:
            if setting("MAIL_USE_TLS"):
                smtp.starttls()
            if setting("MAIL_USERNAME"):
                smtp.login(setting("MAIL_USERNAME"), setting("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger().error("Sending “%s” to %s failed: %s", subject, to, exc)
        return False
    return True


def send_in_background(to: str, subject: str, body: str) -> threading.Thread:
    """Send on a thread of its own, with this application's configuration."""
    app = application()

    def run() -> None:
        with app.app_context():
            send(to, subject, body)

    thread = threading.Thread(target=run, name="matrica-mail", daemon=True)
    thread.start()
    return thread
