"""Signing in and out, invitations and password resets."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from limits import RateLimitItem, parse_many

from app.extensions import db, htmx, limiter, login_manager
from app.i18n import LANGUAGES, in_language, language_of
from app.forms.auth import LoginForm, PasswordRequestForm, SetPasswordForm
from app.models._base import utcnow
from app.services import audit, mail, users
from app.views._messages import error_message
from app.views._render import render, safe_next

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


def signed_in() -> users.SessionUser:
    """The signed-in user itself rather than the ``current_user`` proxy: what services take."""
    return current_user._get_current_object()


# A session is open while its row is (it ends at sign-out, on a password change, or after
# SESSION_LIFETIME) and while it is used: the cookie carries when it was last seen, refreshed at
# most once a minute, and a session unused for SESSION_IDLE_TIMEOUT ends.
_SEEN_REFRESH = 60


@login_manager.user_loader
def _load_user(ident: str):
    config, now = current_app.config, int(time.time())
    seen = session.get("seen")
    if not isinstance(seen, int) or now - seen > int(config["SESSION_IDLE_TIMEOUT"]):
        g.session_idle = "sid" in session
        return None
    opened_after = utcnow() - timedelta(seconds=int(config["SESSION_LIFETIME"]))
    user = users.load_session_user(ident, session.get("sid"), opened_after)
    if user is not None and now - seen >= _SEEN_REFRESH:
        session["seen"] = now
    return user


def start_session(user) -> None:
    """Sign ``user`` in on this browser: a fresh session row, so it can be ended from anywhere."""
    login_user(user)
    opened_after = utcnow() - timedelta(seconds=int(current_app.config["SESSION_LIFETIME"]))
    session["sid"] = users.open_session(user, opened_after)
    session["seen"] = int(time.time())


@login_manager.unauthorized_handler
def _unauthorized():
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx and request.method != "GET":   # an autosave: the page keeps what was typed and says so
        return current_app.response_class(status=401)
    if htmx:
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    if g.get("session_idle"):
        flash(_("You were signed out after %(minutes)d minutes without activity. Please sign in again.",
                minutes=int(current_app.config["SESSION_IDLE_TIMEOUT"]) // 60), "info")
    else:
        flash(_("Please sign in to continue."), "info")
    return redirect(target)


# Login attempts are limited per address, and per address and account together: an attacker's
# address is stopped. Failures on one account from many addresses only slow that account's
# attempts down (a short wait before the answer); the right password is never refused.
def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _login_account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def _login_email() -> str:
    return users.normalise_email(request.form.get("email", ""))[:254]


def _login_address_and_email_key() -> str:
    return f"login:{get_remote_address()}:{_login_email()}"


def _slow_down_attacked_account(email: str) -> None:
    """Wait before answering when the account has failed many times lately, from anywhere."""
    if limiter.enabled and not limiter.limiter.test(_failures_limit(), "login-failures", email):
        time.sleep(float(current_app.config["LOGIN_SLOWDOWN_SECONDS"]))


def _count_failure(email: str) -> None:
    if limiter.enabled:
        limiter.limiter.hit(_failures_limit(), "login-failures", email)


def _failures_limit() -> RateLimitItem:
    return parse_many(current_app.config["LOGIN_SLOWDOWN_AFTER"])[0]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_login_address_and_email_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        _slow_down_attacked_account(_login_email())
        user = users.authenticate(form.email.data, form.password.data)
        if user is None:
            _count_failure(_login_email())
        else:
            start_session(user)
            audit.record(user, "user.login", user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
        error = _("The e-mail or password is not correct, or the account is not active.")
    elif request.method == "POST":
        error = _("Enter your e-mail and password.")
    return render("auth/login.html", form=form, error=error, status=401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record(current_user, "user.logout", users.account_of(current_user))
    users.end_session(session.get("sid"))
    db.session.commit()
    logout_user()
    session.pop("sid", None)
    session.pop("seen", None)
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = PasswordRequestForm()
    if form.validate_on_submit():
        user = users.find_user(form.email.data)
        if user is not None and user.active and user.password_hash is not None:
            # Without mail no link is made here: the request is in the user's history, and an
            # administrator gives the link (shown only to them) from the user's page.
            if mail.configured():
                token = users.make_link_token(user, users.LinkPurpose.PASSWORD_RESET)
                link = url_for("auth.reset_password", token=token, _external=True)
                with in_language(language_of(user)):
                    subject = _("Reset your Matrica password")
                    body = _("Open this link to choose a new password (valid for two hours): %(link)s", link=link)
                mail.send_in_background(user.email, subject, body)
            audit.record(None, "user.reset_requested", user)
            db.session.commit()
        # The same answer whether or not the account exists.
        flash(_("If an active account uses this address, a link to reset the password is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render("auth/forgot.html", form=form)


def _password_from_link(purpose: users.LinkPurpose, token: str, template: str):
    try:
        user = users.user_for_token(token, purpose)
    except users.AccountError as exc:
        return render("auth/link_error.html", message=error_message(exc.code), status=400)
    if user.locale in LANGUAGES and "language" not in session:   # the language chosen for them, not the browser's
        session["language"] = g.language = user.locale
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            users.set_password_with_token(token, purpose, form.password.data)
        except users.AccountError as exc:
            db.session.rollback()
            error = error_message(exc.code)
        else:
            db.session.commit()
            flash(_("Your password is set. You can sign in now."), "success")
            return redirect(url_for("auth.login"))
    return render(template, form=form, user=user, error=error, status=400 if (error or form.errors) else 200)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _password_from_link(users.LinkPurpose.INVITATION, token, "auth/invitation.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_from_link(users.LinkPurpose.PASSWORD_RESET, token, "auth/reset.html")
