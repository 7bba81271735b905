"""One blueprint per feature."""
from flask import Flask

from app.views import admin, auth, main, questionnaires, responses, review


def register_blueprints(app: Flask) -> None:
    for module in (main, auth, admin, questionnaires, responses, review):
        app.register_blueprint(module.bp)
