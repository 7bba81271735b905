"""One blueprint per feature."""
from flask import Flask

from app.views import admin, auth, exports, main, questionnaires, reports, responses, review


def register_blueprints(app: Flask) -> None:
    for module in (main, auth, admin, questionnaires, responses, review, reports, exports):
        app.register_blueprint(module.bp)
