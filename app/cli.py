"""Flask commands: ``demo`` and ``users create|invite|deactivate``."""
from __future__ import annotations

from datetime import date

import sys
from pathlib import Path

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app import demo
from app.extensions import db
from app.languages import LANGUAGES
from app.models import Country, Cycle, CycleStatus, Institution, InstitutionKind, Role
from app.services import cycles, org, questionnaires, reports, users
from app.views._definition_messages import located
from app.xlsform.source import to_xlsx

DEMO_PASSWORD = "matrica-demo"
DEMO_COUNTRIES = ["AL", "BA", "ME", "MK", "RS", "XK"]
DEMO_INSTITUTIONS: dict[str, list[tuple[InstitutionKind, str]]] = {
    "AL": [(InstitutionKind.NATIONAL_COORDINATOR, "Zyra e Koordinatorit Kombëtar kundër Trafikimit"),
           (InstitutionKind.POLICE, "Policia e Shtetit"),
           (InstitutionKind.SHELTER, "Qendra Kombëtare e Pritjes për Viktimat e Trafikimit")],
    "BA": [(InstitutionKind.NATIONAL_COORDINATOR, "Državni koordinator za borbu protiv trgovine ljudima"),
           (InstitutionKind.PROSECUTION, "Tužilaštvo Bosne i Hercegovine"),
           (InstitutionKind.SOCIAL_WELFARE, "Centar za socijalni rad Sarajevo")],
    "ME": [(InstitutionKind.NATIONAL_COORDINATOR, "Kancelarija za borbu protiv trgovine ljudima"),
           (InstitutionKind.POLICE, "Uprava policije"),
           (InstitutionKind.SHELTER, "Sklonište za žrtve trgovine ljudima")],
    "MK": [(InstitutionKind.NATIONAL_COORDINATOR, "Национална комисија за борба против трговија со луѓе"),
           (InstitutionKind.LABOUR_INSPECTORATE, "Државен инспекторат за труд"),
           (InstitutionKind.SOCIAL_WELFARE, "Центар за социјална работа Скопје")],
    "RS": [(InstitutionKind.NATIONAL_COORDINATOR, "Centar za zaštitu žrtava trgovine ljudima"),
           (InstitutionKind.POLICE, "Ministarstvo unutrašnjih poslova"),
           (InstitutionKind.PROSECUTION, "Republičko javno tužilaštvo"),
           (InstitutionKind.COURT, "Viši sud u Beogradu")],
    "XK": [(InstitutionKind.NATIONAL_COORDINATOR, "Zyra e Koordinatorit Kombëtar kundër Trafikimit të Qenieve Njerëzore"),
           (InstitutionKind.POLICE, "Policia e Kosovës"),
           (InstitutionKind.SHELTER, "Strehimorja e Mbrojtur")],
}
DEMO_CYCLE = "2026 annual monitoring"

DEMO_QUESTIONNAIRE = "ban_monitoring"  # the folder under app/questionnaires is named after the form_id


def _demo_users(countries: dict[str, Country], first: dict[str, Institution]) -> list[tuple[str, str, str, list]]:
    return [
        ("admin@example.org", "Demo Administrator", "en", [users.RoleSpec(Role.ADMIN)]),
        ("official.rs@example.org", "Službenik Srbija", "sr_Latn",
         [users.RoleSpec(Role.RESPONDENT, institution_id=first["RS"].id)]),
        ("official.al@example.org", "Zyrtar Shqipëri", "sq",
         [users.RoleSpec(Role.RESPONDENT, institution_id=first["AL"].id)]),
        ("reviewer.rs@example.org", "Recenzent Srbija", "sr_Latn",
         [users.RoleSpec(Role.REVIEWER, country_id=countries["RS"].id)]),
        ("auditor@example.org", "Demo Auditor", "en", [users.RoleSpec(Role.AUDITOR)]),
    ]


DEMO_LOGINS = [
    ("admin@example.org", "administrator"),
    ("official.rs@example.org", "respondent, Serbian institution"),
    ("official.al@example.org", "respondent, Albanian institution"),
    ("reviewer.rs@example.org", "reviewer for Serbia"),
    ("auditor@example.org", "auditor, all countries"),
]


def demo_logins() -> str:
    lines = [f"Demo logins (password: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<26} {what}" for email, what in DEMO_LOGINS]
    return "\n".join(lines)


def load_demo(with_history: bool = True) -> list[str]:
    """Create the demo data where it is missing; running it again changes nothing.
    ``with_history``: also the reviewed 2025 cycle and a response waiting for review (what
    shows sheets, charts and queues on the first run; the test suite builds its own)."""
    done: list[str] = []
    countries: dict[str, Country] = {c.code: c for c in db.session.scalars(select(Country))}
    for code in DEMO_COUNTRIES:
        if code not in countries:
            countries[code] = org.add_country(None, code)
            done.append(f"country {code}")
    first: dict[str, Institution] = {}
    for code, items in DEMO_INSTITUTIONS.items():
        for kind, name in items:
            institution = db.session.scalars(select(Institution).where(
                Institution.country_id == countries[code].id, Institution.name == name)).first()
            if institution is None:
                institution = org.save_institution(None, None, country_id=countries[code].id, kind=kind, name=name)
                done.append(f"institution {name}")
            first.setdefault(code, institution)
    for email, name, locale, roles in _demo_users(countries, first):
        if users.find_user(email) is None:
            users.create_user(None, email, name, locale, password=DEMO_PASSWORD, roles=roles)
            done.append(f"user {email}")
    for name in questionnaires.shipped_names():
        form_id = name
        if questionnaires.find_version(form_id) is None:
            questionnaires.import_questionnaire(None, questionnaires.shipped_xlsx(name), f"{name}.xlsx", publish=True)
            done.append(f"questionnaire {form_id}")
    ban = questionnaires.find_version(DEMO_QUESTIONNAIRE)
    cycle = db.session.scalars(select(Cycle).where(Cycle.name == DEMO_CYCLE)).first()
    if cycle is None:
        cycle = cycles.save_cycle(None, None, name=DEMO_CYCLE, period_start=date(2026, 1, 1),
                                  period_end=date(2026, 12, 31), deadline=date(2027, 3, 31),
                                  version_id=ban.id if ban else None, names=demo.annual_names(2026),
                                  rates=demo.RATES)
        cycles.assign_institutions(None, cycle, {first["RS"].id, first["AL"].id})
        if ban is not None:
            cycles.set_status(None, cycle, CycleStatus.OPEN)
        done.append(f"cycle {DEMO_CYCLE}")
    if with_history and ban is not None:
        everyone = [i for code in DEMO_INSTITUTIONS for i in db.session.scalars(
            select(Institution).where(Institution.country_id == countries[code].id).order_by(Institution.id))]
        reviewers = {"RS": users.find_user("reviewer.rs@example.org"), "*": users.find_user("admin@example.org")}
        done += demo.load_past_cycle(ban, everyone, reviewers, DEMO_PASSWORD)
        second = db.session.scalars(select(Institution).where(
            Institution.name == DEMO_INSTITUTIONS["RS"][1][1])).one()
        done += demo.load_waiting_response(cycle, second, DEMO_PASSWORD)
    return done


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Load the demo countries, institutions, users and cycle (idempotent)."""
        done = load_demo()
        db.session.commit()
        click.echo("Demo data: " + (", ".join(done) if done else "already loaded, nothing changed") + ".")
        click.echo(demo_logins())

    users_group = AppGroup("users", help="Create, invite and deactivate users.")

    def _role_option(role: str | None, institution: int | None, country: str | None) -> list[users.RoleSpec]:
        if role is None:
            return []
        country_id = None
        if country:
            found = db.session.scalars(select(Country).where(Country.code == country.upper())).first()
            if found is None:
                raise click.ClickException(f"unknown country {country}")
            country_id = found.id
        return [users.RoleSpec(Role(role), institution_id=institution, country_id=country_id)]

    role_choice = click.Choice([r.value for r in Role])

    @users_group.command("create")
    @click.argument("email")
    @click.option("--name", default="")
    @click.option("--locale", default="en")
    @click.option("--role", type=role_choice)
    @click.option("--institution", type=int, help="Institution id (respondents).")
    @click.option("--country", help="Country code (reviewers, auditors; none = every country for auditors).")
    @click.password_option()
    def create_command(email, name, locale, role, institution, country, password):
        """Create a user with a password."""
        try:
            user = users.create_user(None, email, name, locale, password=password,
                                     roles=_role_option(role, institution, country))
        except users.AccountError as exc:
            db.session.rollback()
            raise click.ClickException(exc.code) from None
        db.session.commit()
        click.echo(f"Created {user.email}.")

    @users_group.command("invite")
    @click.argument("email")
    @click.option("--name", default="")
    @click.option("--locale", default="en")
    @click.option("--role", type=role_choice, required=True)
    @click.option("--institution", type=int)
    @click.option("--country")
    @click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
                  help="Address of the site, for the link.")
    def invite_command(email, name, locale, role, institution, country, base_url):
        """Invite a user: prints the one-time link (and mails it when mail is configured)."""
        try:
            roles = _role_option(role, institution, country)
            user = users.invite_user(None, email, name, locale, roles[0])
        except users.AccountError as exc:
            db.session.rollback()
            raise click.ClickException(exc.code) from None
        token = users.make_link_token(user, users.LinkPurpose.INVITATION)
        with current_app.test_request_context(base_url=base_url):
            link = url_for("auth.accept_invitation", token=token, _external=True)
        db.session.commit()
        click.echo(f"Invited {user.email}. Invitation link (valid 7 days):\n{link}")

    @users_group.command("deactivate")
    @click.argument("email")
    def deactivate_command(email):
        """Deactivate a user: they can no longer sign in."""
        user = users.find_user(email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        try:
            users.set_active(None, user, False)
        except users.AccountError as exc:
            db.session.rollback()
            raise click.ClickException(exc.code) from None
        db.session.commit()
        click.echo(f"Deactivated {user.email}.")

    app.cli.add_command(users_group)
    app.cli.add_command(questionnaire_group)
    app.cli.add_command(export_command)
    app.cli.add_command(worker_command)


questionnaire_group = AppGroup("questionnaire", help="Check, import and export XLSForm questionnaires.")


def _print_issues(issues) -> None:
    for issue in issues:
        kind = "warning" if issue.warning else "error"
        click.echo(f"{kind}: {located(issue)}", err=not issue.warning)


@questionnaire_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=True, path_type=Path))
def questionnaire_check(path: Path):
    """Check an XLSForm (.xlsx, or a folder of CSV sheets): exit 0 when valid, 1 when not."""
    _definition, issues = questionnaires.check(_read_form(path), path.name)
    _print_issues(issues)
    errors = questionnaires.errors_of(issues)
    if errors:
        click.echo(f"{path}: {len(errors)} error(s).", err=True)
        sys.exit(1)
    click.echo(f"{path}: valid ({len(issues)} warning(s)).")


@questionnaire_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--publish", is_flag=True, help="Publish the new version at once.")
def questionnaire_import(path: Path, publish: bool):
    """Import an XLSForm as the next version of its form_id."""
    try:
        version = questionnaires.import_questionnaire(None, _read_form(path), path.name if path.is_file()
                                                      else f"{path.name}.xlsx", publish=publish)
    except questionnaires.InvalidQuestionnaire as exc:
        db.session.rollback()
        _print_issues(exc.issues)
        click.echo(f"{path}: not imported.", err=True)
        sys.exit(1)
    except questionnaires.IdenticalUpload as exc:
        db.session.rollback()
        click.echo(f"{path}: identical to {exc.version.questionnaire.form_id} version {exc.version.number}; "
                   "not imported.", err=True)
        sys.exit(1)
    db.session.commit()
    state = "published" if publish else "draft"
    click.echo(f"Imported {version.questionnaire.form_id} version {version.number} ({state}).")


@questionnaire_group.command("export")
@click.argument("spec")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def questionnaire_export(spec: str, output: Path):
    """Export FORM_ID or FORM_ID:VERSION as an XLSForm workbook."""
    form_id, _sep, number = spec.partition(":")
    if number and not number.isdigit():
        raise click.ClickException(f"version must be a number: {number}")
    version = questionnaires.find_version(form_id, int(number) if number else None)
    if version is None:
        raise click.ClickException(f"no questionnaire {spec}")
    output.write_bytes(questionnaires.export_xlsx(version))
    click.echo(f"Wrote {output} ({form_id} version {version.number}).")


def _read_form(path: Path) -> bytes:
    if path.is_dir():
        return to_xlsx(path)
    return path.read_bytes()


@click.command("export")
@with_appcontext
@click.argument("kind", type=click.Choice(["institution", "country", "region", "raw"]))
@click.option("--cycle", "cycle_id", type=int, required=True, help="the cycle's id")
@click.option("--institution", "institution_id", type=int, help="institution: its id")
@click.option("--country", "country_code", help="country: its code, such as RS")
@click.option("--lang", "language", default="en", type=click.Choice(list(LANGUAGES)))
@click.option("--as", "email", help="whose scope to export with (default: an active administrator)")
@click.option("--format", "file_format", default="xlsx", type=click.Choice(["xlsx", "csv"]),
              help="raw: xlsx, or csv (a .zip of one .csv per sheet when the questionnaire has repeats)")
@click.option("--labels", help="raw: answers as labels in this language of the questionnaire (default: codes)")
@click.option("--multiple", default="both", type=click.Choice(["both", "single", "split"]),
              help="raw: a select-multiple as one column, one 0/1 column per choice, or both")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export_command(kind, cycle_id, institution_id, country_code, language, email, file_format, labels, multiple,
                   output):
    """Write a workbook of a cycle: one institution's, a country's or the region's indicators (.xlsx), or
    the raw data (one row per response; --country narrows it)."""
    from flask_babel import force_locale

    from app.exports import sheets
    from app.models import Response, Role, RoleAssignment, User
    from app.services.errors import ServiceError
    from app.services.scope import get_scoped
    from app.views import _workbooks as workbooks

    reader = users.find_user(email) if email else db.session.scalars(
        select(User).join(RoleAssignment).where(RoleAssignment.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id)).first()
    if reader is None:
        raise click.ClickException("no such reader: name one with --as EMAIL")
    try:
        cycle = get_scoped(reader, Cycle, cycle_id)
        with current_app.test_request_context(), force_locale(LANGUAGES[language][1]):
            from flask import g
            g.language = language
            if kind == "raw":
                form = reports.form_of(cycle)
                if form is None:
                    raise click.ClickException(f"cycle {cycle_id} has no questionnaire pinned")
                if labels is not None and labels not in form.languages:
                    raise click.UsageError(f"--labels: the questionnaire's languages are {', '.join(form.languages)}")
                place_id = None
                if country_code:
                    place = db.session.scalars(select(Country).where(Country.code == country_code.upper())).first()
                    if place is None:
                        raise click.UsageError("--country: no such country")
                    place_id = get_scoped(reader, Country, place.id).id
                rows = workbooks.raw(reader, cycle, language, output, labels=labels, multiple=multiple,
                                     file_format=file_format, country_id=place_id)
                click.echo(f"Written {output}: {rows} rows, one per response")
                return
            if kind == "institution":
                if institution_id is None:
                    raise click.UsageError("--institution is needed")
                response = db.session.scalars(select(Response).where(Response.cycle_id == cycle.id,
                                                                     Response.institution_id == institution_id)).first()
                if response is None:
                    raise click.ClickException(f"institution {institution_id} has no response in cycle {cycle_id}")
                book = workbooks.institution(reader, get_scoped(reader, Response, response.id), language)
            elif kind == "country":
                place = db.session.scalars(select(Country).where(Country.code == (country_code or "").upper())).first()
                if place is None:
                    raise click.UsageError("--country CODE is needed (a known country)")
                book = workbooks.country(reader, cycle, get_scoped(reader, Country, place.id), language)
            else:
                book = workbooks.region(reader, cycle, language)
            if book is None:
                raise click.ClickException(f"cycle {cycle_id} has no questionnaire pinned")
            sheets.write(book, output)
    except ServiceError as exc:
        raise click.ClickException(f"not found or not allowed for {reader.email}: {exc.code}") from None
    click.echo(f"Written {output}")


@click.command("worker")
@with_appcontext
@click.option("--workers", default=2, show_default=True, help="threads taking jobs in this process")
def worker_command(workers: int):
    """Run a consumer of background jobs (exports) until stopped. Run one or more on any node that
    shares the queue (HUEY_URL) and the database."""
    huey = current_app.extensions["huey"]
    click.echo(f"Matrica worker: {workers} thread(s) on the {type(huey.storage).__name__} queue")
    huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
