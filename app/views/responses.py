"""Responses: the list a user may see, and one response's overview."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, Country, Cycle, Institution, Response, ResponseStatus
from app.services.scope import get_scoped, scoped
from app.views._render import render

bp = Blueprint("responses", __name__, url_prefix="/responses")


@bp.route("/")
@login_required
def index():
    user = current_user._get_current_object()
    rows = db.session.execute(
        scoped(user, Response)
        .join(Cycle, Response.cycle_id == Cycle.id)
        .join(Country, Institution.country_id == Country.id)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .with_only_columns(Response, func.count(Answer.id))
        .group_by(Response.id, Cycle.deadline, Country.code, Institution.name)
        .order_by(Cycle.deadline.desc(), Country.code, Institution.name)
    ).all()
    return render("responses/index.html", rows=rows, statuses=ResponseStatus)


@bp.route("/<int:response_id>")
@login_required
def show(response_id: int):
    response = get_scoped(current_user._get_current_object(), Response, response_id)
    answered = db.session.scalar(select(func.count(Answer.id)).where(Answer.response_id == response.id))
    return render("responses/show.html", response=response, answered=answered)
