"""Home (per role), the language switcher and the user's own account."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func

from app.extensions import db
from app.forms.auth import ChangePasswordForm, ProfileForm
from app.i18n import LANGUAGES, normalise_language
from app.models import Country, Institution, ResponseStatus
from app.services import response_list, review
from app.services import users
from app.services.scope import scope_of, scoped
from app.views import responses as responses_views
from app.views._render import render, safe_next
from app.views._messages import error_message
from app.views.auth import signed_in, start_session

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    user = signed_in()
    scope = scope_of(user)
    listing = response_list.listing(user, size=HOME_ROWS, hide_planned=True)
    # Who waits on whom: reviewers see what waits for their review, oldest first; respondents
    # what was returned to them; everyone who reviews or oversees, where each cycle stands.
    waiting = response_list.listing(user, response_list.Filters(status=ResponseStatus.SUBMITTED), size=HOME_ROWS,
                                    waiting_longest_first=True, access="review") \
        if scope.review_countries or scope.admin else None
    returned = response_list.listing(user, response_list.Filters(status=ResponseStatus.RETURNED), size=HOME_ROWS,
                                     access="answer") if scope.institutions else None
    open_threads = review.open_threads([row.response.id for row in listing.rows]
                                       + [row.response.id for row in (returned.rows if returned else [])])
    countries = db.session.scalars(scoped(user, Country).order_by(Country.code)).all()
    institution_counts = dict(db.session.execute(
        scoped(user, Institution).with_only_columns(Institution.country_id, func.count())
        .group_by(Institution.country_id)).all())
    return render("main/home.html", scope=scope, listing=listing, countries=countries,
                  institution_counts=institution_counts, assignments=users.account_of(user).roles,
                  waiting=waiting, returned=returned, open_threads=open_threads,
                  steps={**responses_views.next_steps(user, listing),
                         **(responses_views.next_steps(user, returned) if returned else {})},
                  cycle_counts=response_list.status_counts(user) if not scope.institutions or scope.admin else [],
                  statuses=list(ResponseStatus))


HOME_ROWS = 10   # the rest is one link away, on the list


@bp.route("/session/token")
def token():
    """The session's current CSRF token, for a page whose own one went stale (its user signed in
    again in another tab): its autosaves can then be sent again. Same-origin scripts only can
    read it."""
    reply = jsonify(token=generate_csrf(), signed_in=current_user.is_authenticated)
    reply.headers["Cache-Control"] = "no-store"
    return reply


@bp.route("/language", methods=["POST"])
def set_language():
    code = normalise_language(request.form.get("language"))
    session["language"] = code
    if current_user.is_authenticated:
        user = users.account_of(current_user)
        if user.locale != code:
            users.update_profile(user, user, user.name, code)
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("main.home")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = users.account_of(current_user)
    form = ProfileForm(obj=user)
    password_form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        users.update_profile(user, user, form.name.data or "", user.locale)
        db.session.commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("main.account"))
    return render("main/account.html", form=form, password_form=password_form, languages=LANGUAGES,
                  status=400 if form.errors else 200)


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    """The user's own password: the current one is asked for; every other session ends and this
    browser stays signed in."""
    user = users.account_of(current_user)
    form = ChangePasswordForm(prefix="password")
    error = None
    if form.validate_on_submit():
        try:
            users.change_password(user, form.current.data, form.password.data)
        except users.AccountError as exc:
            db.session.rollback()
            error = error_message(exc.code)
        else:
            start_session(user)
            db.session.commit()
            flash(_("Your password is changed. You were signed out everywhere else."), "success")
            return redirect(url_for("main.account"))
    return render("main/account.html", form=ProfileForm(obj=user), password_form=form,
                  password_error=error, languages=LANGUAGES, status=400)
