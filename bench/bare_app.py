"""The baseline for bench/autosave.py: a bare Flask endpoint that does one INSERT and a commit."""
import os

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

engine = create_engine(os.environ["BENCH_DATABASE_URL"])  # no ping at checkout: one INSERT and a commit, nothing more
metadata = MetaData()
rows = Table("bench_bare", metadata, Column("id", Integer, primary_key=True), Column("value", String(50)))
if engine.dialect.name == "sqlite":
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
# The table is created by bench/autosave.py before the server starts: two workers importing
# this module at once would race to create it, and the loser would not boot.
app = Flask(__name__)


@app.post("/insert")
def insert_one():
    with engine.begin() as connection:
        connection.execute(insert(rows).values(value=request.form.get("value", "")[:50]))
    return "ok"
