"""Raw data exports: the form, then either the file at once (a small export) or a job a
worker prepares, with a progress page — polled by HTMX every second (the server answers 286
when it is over), refreshed by the browser itself without JavaScript — and its download,
which only the user who asked for it can fetch."""
from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required

from app import jobs
from app.extensions import db
from app.forms.exports import RawExportForm
from app.i18n import current_language
from app.models import Country, Cycle, ExportState
from app.services import exports, raw_data, reports
from app.services.scope import get_scoped, scoped
from app.templating import country_name
from app.views import _workbooks as workbooks
from app.views._render import render, wants_fragment
from app.views._transaction import REFUSED, commit_or_report
from app.views.auth import signed_in

bp = Blueprint("exports", __name__, url_prefix="/exports")

STOP_POLLING = 286   # htmx: the answer to a poll that says "this is the last one"


def _form(user) -> RawExportForm:
    form = RawExportForm()
    form.cycle.choices = [(cycle.id, cycle.name_in(current_language())) for cycle in reports.cycles_for(user)]
    form.country.choices = [("", _("Every country you can see"))] + [
        (place.id, country_name(place)) for place in db.session.scalars(scoped(user, Country).order_by(Country.code))]
    return form


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    user = signed_in()
    form = _form(user)
    if form.validate_on_submit():
        cycle = get_scoped(user, Cycle, form.cycle.data)
        place = get_scoped(user, Country, form.country.data) if form.country.data else None
        params = {"cycle": cycle.id, "country": place.id if place else None,
                  "country_code": place.code if place else None, "labels": form.labels.data or None,
                  "multiple": form.multiple.data, "format": form.file_format.data, "language": current_language()}
        if reports.form_of(cycle) is None:
            form.cycle.errors.append(_("This cycle has no questionnaire pinned: it has no data to export."))
        elif raw_data.count(user, cycle, params["country"]) <= current_app.config["EXPORT_AT_ONCE"]:
            try:
                return _at_once(user, cycle, params)
            except workbooks.RowCountMismatch:   # a response came or went while it was written
                db.session.rollback()
                form.cycle.errors.append(_("Not every response was written, so the file is not offered. "
                                           "Ask for it again."))
            except OSError:
                db.session.rollback()
                current_app.logger.exception("a raw export could not be written")
                form.cycle.errors.append(_("The file could not be written (the disk may be full). Ask for it again."))
        else:
            job, created = commit_or_report(lambda: exports.request(user, "raw", params))
            if created:
                jobs.enqueue_export(current_app, job.id)
            else:
                flash(_("This export is already being prepared: here it is."), "info")
            return redirect(url_for("exports.show", job_id=job.id))
    return render("exports/index.html", form=form, jobs=exports.recent(user), describe=_describe,
                  status=422 if form.errors else 200)


def _at_once(user, cycle, params):
    buffer = io.BytesIO()
    workbooks.raw(user, cycle, params["language"], buffer, labels=params["labels"], multiple=params["multiple"],
                  file_format=params["format"], country_id=params["country"])
    data = buffer.getvalue()
    name, kind = workbooks.raw_filename(cycle, params, data[:4])
    reports.downloaded(user, cycle, name)
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype=jobs.MEDIA[kind], as_attachment=True, download_name=name)


def _describe(job) -> dict:
    """What a page says of a job: its state in words, its progress, and what can be done."""
    if exports.stalled(job):
        return {"state": "failed", "text": _("The worker preparing this export stopped. Ask for it again.")}
    if job.state == ExportState.QUEUED:
        return {"state": "queued", "text": _("Waiting for a worker…")}
    if job.state == ExportState.RUNNING:
        if job.total:
            text = ngettext("%(done)s of %(num)d response written", "%(done)s of %(num)d responses written",
                            job.total, done=job.done)
        else:
            text = _("Counting the responses…")
        return {"state": "running", "text": text}
    if job.state == ExportState.FAILED:
        return {"state": "failed", "text": {
            "not_allowed": _("You may no longer see this cycle or country."),
            "row_count": _("Not every response was written, so the file is not offered. Ask for it again."),
            "write_failed": _("The file could not be written (the disk may be full). Ask for it again."),
        }.get(job.error or "", _("Something went wrong while preparing this export. Ask for it again."))}
    if exports.expired(job):
        return {"state": "expired", "text": _("This file was deleted after its time ran out. Ask for it again.")}
    return {"state": "done", "text": ngettext("Ready: %(num)d response.", "Ready: %(num)d responses.", job.done)}


@bp.route("/<int:job_id>")
@login_required
def show(job_id: int):
    job = exports.own(signed_in(), job_id)
    described = _describe(job)
    status = STOP_POLLING if described["state"] not in ("queued", "running") else 200
    return render("exports/show.html", "job", status=status if wants_fragment() else 200, job=job,
                  described=described)


@bp.route("/<int:job_id>/retry", methods=["POST"])
@login_required
def retry(job_id: int):
    user = signed_in()
    job = exports.own(user, job_id)
    if commit_or_report(lambda: exports.retry(user, job)) is not REFUSED:
        jobs.enqueue_export(current_app, job.id)
    return redirect(url_for("exports.show", job_id=job.id))


@bp.route("/<int:job_id>/file")
@login_required
def download(job_id: int):
    user = signed_in()
    job = exports.own(user, job_id)
    found = commit_or_report(lambda: exports.content(job))
    if found is REFUSED:
        return redirect(url_for("exports.show", job_id=job.id))
    reports.downloaded(user, job, job.filename)
    db.session.commit()
    source = io.BytesIO(found) if isinstance(found, bytes) else found
    return send_file(source, mimetype=job.media_type, as_attachment=True, download_name=job.filename)
