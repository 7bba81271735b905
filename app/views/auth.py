"""Signing in and out, invitations and password resets."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, htmx, limiter, login_manager
from app.forms.auth import LoginForm, PasswordRequestForm, SetPasswordForm
from app.services import audit, mail, users
from app.views._messages import error_message
from app.views._render import render, safe_next

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


def signed_in() -> users.SessionUser:
    """The signed-in user itself rather than the ``current_user`` proxy: what services take."""
    return current_user._get_current_object()


@login_manager.user_loader
def _load_user(ident: str):
    return users.load_session_user(ident)


@login_manager.unauthorized_handler
def _unauthorized():
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    flash(_("Please sign in to continue."), "info")
    return redirect(target)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _login_email_key() -> str:
    return "login-email:" + users.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
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
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = PasswordRequestForm()
    if form.validate_on_submit():
        user = users.find_user(form.email.data)
        if user is not None and user.active and user.password_hash is not None:
            token = users.make_link_token(user, users.LinkPurpose.PASSWORD_RESET)
            link = url_for("auth.reset_password", token=token, _external=True)
            mail.send(user.email, _("Reset your Matrica password"),
                      _("Open this link to choose a new password (valid for two hours): %(link)s", link=link))
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
