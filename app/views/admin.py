"""The platform operator's screens: countries, institutions, users and roles, cycles."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms.admin import (AssignForm, CountryForm, CycleForm, EmptyForm, InstitutionForm, InviteForm, RoleForm,
                             cycle_names, fill_cycle_names)
from app.i18n import LANGUAGES, current_language, in_language, language_of
from app.models import Country, Cycle, CycleStatus, Institution, InstitutionKind, Role, User
from app.services import admin, cycles, mail, org, users
from app.services.scope import get_scoped
from app.views import _history as history
from app.views._messages import error_message
from app.views._render import render
from app.views._transaction import REFUSED, commit_or_report
from app.views.auth import signed_in

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _country_choices(empty_label: str | None = None):
    language = LANGUAGES[current_language()][1]
    choices = [(c.id, f"{c.name(language)} ({c.code})") for c in admin.countries()]
    return ([("", empty_label)] if empty_label is not None else []) + choices


def _institution_choices(empty_label: str | None = None):
    choices = [(i.id, f"{country.code} · {i.name}") for i, country in admin.institutions()]
    return ([("", empty_label)] if empty_label is not None else []) + choices


@bp.route("/")
@admin_required
def index():
    return render("admin/index.html", counts=admin.counts(), lines=[history.line(e) for e in admin.recent_events()])


# -- countries ------------------------------------------------------------------------

@bp.route("/countries", methods=["GET", "POST"])
@admin_required
def countries():
    form = CountryForm()
    if form.validate_on_submit():
        country = commit_or_report(lambda: org.add_country(signed_in(), form.code.data), form.code.errors.append)
        if country is not REFUSED:
            flash(_("%(country)s added.", country=country.name(LANGUAGES[current_language()][1])), "success")
            return redirect(url_for("admin.countries"))
    return render("admin/countries.html", form=form, rows=admin.countries_with_institution_counts(),
                  toggle_form=EmptyForm(),
                  status=400 if form.errors else 200)


@bp.route("/countries/<int:country_id>/active", methods=["POST"])
@admin_required
def country_active(country_id: int):
    country = db.get_or_404(Country, country_id)
    if EmptyForm().validate_on_submit():
        org.set_country_active(signed_in(), country, request.form.get("active") == "1")
        db.session.commit()
    return redirect(url_for("admin.countries"))


# -- institutions ---------------------------------------------------------------------

@bp.route("/institutions", methods=["GET", "POST"])
@admin_required
def institutions():
    form = InstitutionForm()
    form.country_id.choices = _country_choices()
    country_filter = request.args.get("country", type=int)
    if country_filter and request.method == "GET":
        form.country_id.data = country_filter
    if form.validate_on_submit() and commit_or_report(lambda: _save_institution(form, None),
                                                      form.name.errors.append) is not REFUSED:
        flash(_("Institution added."), "success")
        return redirect(url_for("admin.institutions", country=form.country_id.data))
    return render("admin/institutions.html", "institution_list", form=form, rows=admin.institutions(country_filter),
                  country_choices=_country_choices(), country_filter=country_filter,
                  kinds=dict(form.kind.choices), status=400 if form.errors else 200)


@bp.route("/institutions/<int:institution_id>", methods=["GET", "POST"])
@admin_required
def institution(institution_id: int):
    item = get_scoped(signed_in(), Institution, institution_id)
    form = InstitutionForm(obj=item)
    form.country_id.choices = _country_choices()
    if request.method == "GET":
        form.kind.data = item.kind.value
    if form.validate_on_submit() and commit_or_report(lambda: _save_institution(form, item),
                                                      form.name.errors.append) is not REFUSED:
        flash(_("Institution saved."), "success")
        return redirect(url_for("admin.institutions", country=item.country_id))
    return render("admin/institution.html", form=form, institution=item, people=admin.people_of(item),
                  status=400 if form.errors else 200)


def _save_institution(form: InstitutionForm, item: Institution | None) -> Institution:
    return org.save_institution(signed_in(), item, country_id=form.country_id.data, kind=InstitutionKind(form.kind.data),
                                name=form.name.data, active=form.active.data)


# -- users ----------------------------------------------------------------------------

def _role_spec(form) -> users.RoleSpec:
    role = Role(form.role.data)
    return users.RoleSpec(role=role,
                          institution_id=form.institution_id.data if role == Role.RESPONDENT else None,
                          country_id=form.country_id.data if role in (Role.REVIEWER, Role.AUDITOR) else None)


def _prepare_role_fields(form) -> None:
    form.institution_id.choices = _institution_choices(_("— none —"))
    form.country_id.choices = _country_choices(_("— all countries —"))


def _send_link(user: User, purpose: users.LinkPurpose) -> str | None:
    """Send a one-time link by mail; the link itself when mail is not configured."""
    token = users.make_link_token(user, purpose)
    with in_language(language_of(user)):   # theirs
        if purpose == users.LinkPurpose.INVITATION:
            link = url_for("auth.accept_invitation", token=token, _external=True)
            subject = _("Your invitation to Matrica")
            body = _("You have been invited to Matrica. Open this link to choose your password "
                     "(valid for seven days): %(link)s", link=link)
        else:
            link = url_for("auth.reset_password", token=token, _external=True)
            subject = _("Reset your Matrica password")
            body = _("Open this link to choose a new password (valid for two hours): %(link)s", link=link)
    sent = mail.send(user.email, subject, body)
    return None if sent else link


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users_index():
    form = InviteForm()
    form.locale.choices = [(code, name) for code, (name, _loc) in LANGUAGES.items()]
    if request.method == "GET":
        form.locale.data = current_language()
    _prepare_role_fields(form)
    if form.validate_on_submit():
        def invite():
            user = users.invite_user(signed_in(), form.email.data, form.name.data or "", form.locale.data,
                                     _role_spec(form))
            return user, _send_link(user, users.LinkPurpose.INVITATION)
        invited = commit_or_report(invite, form.email.errors.append)
        if invited is not REFUSED:
            user, link = invited
            flash(_("%(email)s is invited.", email=user.email), "success")
            if link is None:
                return redirect(url_for("admin.user", user_id=user.id))
            return render("admin/link_shown.html", user=user, link=link)
    q = request.args.get("q", "").strip()
    return render("admin/users.html", "user_list", form=form, people=admin.users(q), q=q,
                  status=400 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int):
    person = db.get_or_404(User, user_id)
    form = RoleForm()
    _prepare_role_fields(form)
    if form.validate_on_submit() and commit_or_report(lambda: users.assign_role(signed_in(), person, _role_spec(form)),
                                                      form.role.errors.append) is not REFUSED:
        flash(_("Role added."), "success")
        return redirect(url_for("admin.user", user_id=person.id))
    return render("admin/user.html", "roles", person=person, form=form,
                  lines=[history.line(e) for e in admin.user_events(person)],
                  status=400 if form.errors else 200)


@bp.route("/users/<int:user_id>/roles/<int:assignment_id>/remove", methods=["POST"])
@admin_required
def remove_role(user_id: int, assignment_id: int):
    person = db.get_or_404(User, user_id)
    if EmptyForm().validate_on_submit() and commit_or_report(
            lambda: users.remove_role(signed_in(), person, assignment_id)) is not REFUSED:
        flash(_("Role removed."), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def user_active(user_id: int):
    person = db.get_or_404(User, user_id)
    if EmptyForm().validate_on_submit():
        active = request.form.get("active") == "1"
        if commit_or_report(lambda: users.set_active(signed_in(), person, active)) is not REFUSED:
            flash(_("%(email)s is active again.", email=person.email) if active
                  else _("%(email)s is deactivated and can no longer sign in.", email=person.email), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/link", methods=["POST"])
@admin_required
def user_link(user_id: int):
    """Send a fresh invitation (no password yet) or password-reset link."""
    person = db.get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not person.active:
        flash(_("Activate the user first."), "error")
        return redirect(url_for("admin.user", user_id=person.id))
    purpose = users.LinkPurpose.INVITATION if person.password_hash is None else users.LinkPurpose.PASSWORD_RESET
    link = _send_link(person, purpose)
    users.link_sent(signed_in(), person, purpose)
    db.session.commit()
    if link is None:
        flash(_("The link was sent to %(email)s.", email=person.email), "success")
        return redirect(url_for("admin.user", user_id=person.id))
    return render("admin/link_shown.html", user=person, link=link)


# -- cycles ---------------------------------------------------------------------------

def _version_choices():
    return [("", _("— not pinned yet —"))] + [
        (v.id, _("%(title)s, version %(number)d", title=q.title, number=v.number)) for v, q in admin.published_versions()]


def _save_cycle(form: CycleForm, cycle: Cycle | None):
    try:
        saved = cycles.save_cycle(signed_in(), cycle, name=form.name.data, period_start=form.period_start.data,
                                  period_end=form.period_end.data, deadline=form.deadline.data,
                                  version_id=form.version_id.data, names=cycle_names(form),
                                  rates=cycles.parse_rates(form.rates.data or ""))
    except cycles.CycleError as exc:   # the reason goes to the field it is about
        db.session.rollback()
        field = {"period_reversed": form.period_end, "deadline_before_period": form.deadline,
                 "version_not_published": form.version_id, "version_locked_by_answers": form.version_id,
                 "rates_invalid": form.rates, "rates_missing": form.rates}.get(exc.code, form.name)
        field.errors.append(error_message(exc.code))
        return None
    db.session.commit()
    return saved


@bp.route("/cycles", methods=["GET", "POST"])
@admin_required
def cycles_index():
    form = CycleForm()
    form.version_id.choices = _version_choices()
    if form.validate_on_submit():
        saved = _save_cycle(form, None)
        if saved is not None:
            flash(_("Cycle created. Now assign its institutions."), "success")
            return redirect(url_for("admin.cycle", cycle_id=saved.id))
    return render("admin/cycles.html", form=form, rows=admin.cycles_with_response_counts(),
                  status=400 if form.errors else 200)


@bp.route("/cycles/<int:cycle_id>", methods=["GET", "POST"])
@admin_required
def cycle(cycle_id: int):
    item = get_scoped(signed_in(), Cycle, cycle_id)
    form = CycleForm(obj=item, prefix="cycle")
    form.version_id.choices = _version_choices()
    if request.method == "GET":
        form.version_id.data = item.questionnaire_version_id
        form.rates.data = cycles.format_rates(item.rates)
        fill_cycle_names(form, item.names)
    if form.validate_on_submit():
        if _save_cycle(form, item) is not None:
            flash(_("Cycle saved."), "success")
            return redirect(url_for("admin.cycle", cycle_id=item.id))
    assign = AssignForm(prefix="assign")
    assign.institution_ids.choices = _institution_choices()
    assign.institution_ids.data = [i.id for i in item.institutions]
    return render("admin/cycle.html", cycle=item, form=form, assign=assign,
                  all_institutions=admin.institutions(), assigned={i.id for i in item.institutions},
                  responses=admin.responses_of(item), statuses=CycleStatus, missing_rates=cycles.missing_rates(item),
                  status=400 if form.errors else 200)


@bp.route("/cycles/<int:cycle_id>/institutions", methods=["POST"])
@admin_required
def cycle_assign(cycle_id: int):
    item = get_scoped(signed_in(), Cycle, cycle_id)
    form = AssignForm(prefix="assign")
    form.institution_ids.choices = _institution_choices()
    if not form.validate_on_submit():
        flash(_("One of the chosen institutions does not exist."), "error")
        return redirect(url_for("admin.cycle", cycle_id=item.id))
    if commit_or_report(lambda: cycles.assign_institutions(signed_in(), item,
                                                           set(form.institution_ids.data or []))) is not REFUSED:
        flash(_("Institutions assigned."), "success")
    return redirect(url_for("admin.cycle", cycle_id=item.id))


@bp.route("/cycles/<int:cycle_id>/status", methods=["POST"])
@admin_required
def cycle_status(cycle_id: int):
    item = get_scoped(signed_in(), Cycle, cycle_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        status = CycleStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if commit_or_report(lambda: cycles.set_status(signed_in(), item, status)) is not REFUSED:
        flash(_("Cycle status changed."), "success")
    return redirect(url_for("admin.cycle", cycle_id=item.id))
