"""Autosave: how fast the form renders and answers are saved, against a bare baseline.

    .venv/bin/python bench/autosave.py [--seconds 8] [--clients 32] [--interval 0.5] [--rounds 7] [--skip-sqlite] [--skip-postgres]

Prints, for SQLite and PostgreSQL:
* the median server time to render the largest section of the BAN questionnaire (in process);
* autosave throughput, p50 and p99 latency with N concurrent clients against gunicorn, each
  client an official saving answers of their own institution's response, sending the next
  save as soon as the last is answered (saturation);
* p50 and p99 when the same clients save at a steady pace (one save each ``--interval``
  seconds each: 64 saves a second for 32 clients, more than 32 people typing produce);
* the same for a bare Flask endpoint doing one INSERT and a commit on the same database,
  served by the same gunicorn settings in the same run — and the ratio between the two.
The goal: at least half the bare endpoint's throughput, and p99 under 50 ms.

At saturation every client always has a request waiting, so latency there is the queue:
32 clients / throughput (Little's law), 90 ms for the bare endpoint at 350 req/s. The p99
goal is read off the steady run.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
# The settings `make run` serves with, for both endpoints.
GUNICORN = [str(Path(PYTHON).parent / "gunicorn"), "--no-control-socket", "--workers", "2", "--threads", "4",
            "--worker-class", "gthread", "--log-level", "warning"]
# Each request on its own connection, as gunicorn sees traffic behind a proxy such as nginx
# (HTTP/1.0 upstream by default). With keep-alive, the clients' 32 connections, opened at
# once, all land on one worker and the other idles.
CLOSE = {"Connection": "close"}
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/matrica_bench"


FAILURES: collections.Counter = collections.Counter()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str, clients: int) -> None:
    """Migrate, load the demo, and give each of N respondents an institution with an open response
    (one official per institution, as in real use)."""
    env = {**os.environ, "DATABASE_URL": url, "MATRICA_SECRET_KEY": "bench"}
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    script = f"""
from app import create_app
from app.extensions import db
from app.models import Country, Cycle, Institution, InstitutionKind, Role
from app.services import cycles, users
from bench.autosave import fill_bench_responses
from sqlalchemy import select
app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}})
with app.app_context():
    rs = db.session.scalars(select(Country).where(Country.code == "RS")).one()
    cycle = db.session.scalars(select(Cycle)).first()
    ids = set()
    for i in range({clients}):
        name = f"Bench institution {{i:03d}}"
        inst = db.session.scalars(select(Institution).where(Institution.name == name)).first()
        if inst is None:
            inst = Institution(country_id=rs.id, kind=InstitutionKind.OTHER, name=name)
            db.session.add(inst); db.session.flush()
        ids.add(inst.id)
        email = f"bench-{{i:03d}}@example.org"
        user = users.find_user(email) or users.create_user(None, email, "", "en", password="bench-password")
        if not any(a.institution_id == inst.id for a in user.roles):
            users.assign_role(None, user, users.RoleSpec(Role.RESPONDENT, institution_id=inst.id))
    cycles.assign_institutions(None, cycle, {{i.id for i in cycle.institutions}} | ids)
    db.session.commit()
    fill_bench_responses()
"""
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "-c", "from bench.bare_app import engine, metadata; metadata.create_all(engine)"], cwd=ROOT,
                   env={**env, "BENCH_DATABASE_URL": url}, check=True)


SIMPLE_VALUES = {"integer": "1", "decimal": "1", "text": "Bench answer", "date": "2026-01-15"}


def fill_bench_responses() -> None:
    """Answer every question outside repeats of each bench response, as an official well into
    the cycle would have: an autosave then loads, checks and scores a full response."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Institution, Response
    from app.services import responses as service, users

    for response in db.session.scalars(select(Response).join(Institution)
                                       .where(Institution.name.like("Bench institution %"))).all():
        loaded = service.load(response)
        if len(loaded.answers) > 10:
            continue
        official = users.find_user(f"bench-{int(response.institution.name.rsplit(' ', 1)[1]):03d}@example.org")
        submitted = {}
        for page in loaded.form.pages:
            for node in loaded.form.walk(page):
                if node.kind != "question" or not node.is_input or node.chain or node.read_only is True:
                    continue
                if node.list_name:
                    value = loaded.form.choices[node.list_name][0].name
                else:
                    value = SIMPLE_VALUES.get(node.type)
                if value is not None:
                    submitted[node.name] = service.Submitted(value, None, 0)
        for _attempt in range(5):  # drop what a constraint refuses, save the rest
            saved = service.save_answers(official, loaded, submitted)
            if not saved.rejected:
                break
            db.session.rollback()
            submitted = {p: s for p, s in submitted.items() if saved.outcomes[p].status not in ("invalid", "conflict")}
            loaded = service.load(response)
        db.session.commit()


def render_median(url: str, runs: int = 40) -> tuple[float, str, float]:
    """Median ms to render the largest BAN section in process, and to render the login page."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Institution, Response
    from app.services import responses as service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False,
                      "PREFERRED_URL_SCHEME": "http",
                      "CHECK_DATABASE_ON_START": False, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed_in = client.post("/login", data={"email": "bench-000@example.org", "password": "bench-password", "csrf_token": token})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[-1500:]
    with app.app_context():
        response = db.session.scalars(select(Response).join(Institution)
                                      .where(Institution.name == "Bench institution 000")).one()
        loaded = service.load(response)
        sizes = [(sum(1 for _ in loaded.form.walk(p)), n) for n, p in enumerate(loaded.form.pages, start=1)]
        nodes, number = max(sizes)
        label = loaded.form.text(loaded.form.pages[number - 1].label, "en")[0]
        response_id = response.id
    path = f"/responses/{response_id}/pages/{number}"
    client.get(path)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        reply = client.get(path)
        assert reply.status_code == 200, (reply.status_code, reply.headers.get("Location"), reply.get_data(as_text=True)[:300])
        timings.append((time.perf_counter() - started) * 1000)
    login = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get("/account")
        login.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), f"{label} ({nodes} nodes)", statistics.median(login)


class Server:
    def __init__(self, app_spec: str, env: dict):
        self.port = free_port()
        self.process = subprocess.Popen(GUNICORN + ["--bind", f"127.0.0.1:{self.port}", app_spec], cwd=ROOT,
                                        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start: " + self.process.stderr.read().decode()[-2000:])

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(20)


def run_load(steps, seconds: float, interval: float | None = None, warmup: float = 2.0) -> Load:
    """One thread per client. Without ``interval``, each client sends its next request as soon
    as the last is answered (saturation: the throughput). With it, each client sends one every
    ``interval`` seconds on a fixed schedule, and latency counts from the scheduled moment, so a
    server that falls behind is not excused by the clients waiting for it. The first ``warmup``
    seconds (each gunicorn worker's first requests fill its caches) are not counted."""
    clients = len(steps)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_barrier = threading.Barrier(clients + 1)
    stop = threading.Event()
    counting = threading.Event()

    def body(i: int) -> None:
        step = steps[i]
        start_barrier.wait()
        scheduled = time.perf_counter() + (interval or 0) * i / clients
        while not stop.is_set():
            if interval:
                pause = scheduled - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                started = scheduled
                scheduled += interval
            else:
                started = time.perf_counter()
            try:
                ok = step()
            except requests.RequestException as exc:  # counted, and the client goes on
                FAILURES[("connection", type(exc).__name__)] += 1
                ok = False
            if counting.is_set() and not stop.is_set():  # completions inside the window only
                latencies[i].append((time.perf_counter() - started) * 1000)
                if not ok:
                    errors[i] += 1

    threads = [threading.Thread(target=body, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_barrier.wait()
    time.sleep(warmup)
    counting.set()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - began
    for thread in threads:
        thread.join()
    flat = sorted(x for xs in latencies for x in xs)
    p99 = flat[min(len(flat) - 1, int(len(flat) * 0.99))]
    return Load(len(flat) / elapsed, statistics.median(flat), p99, sum(errors))


@dataclass
class Load:
    throughput: float
    p50: float
    p99: float
    errors: int

    def line(self, label: str) -> str:
        return (f"{label:<46} {self.throughput:7.1f} req/s  p50 {self.p50:6.1f} ms  p99 {self.p99:6.1f} ms  "
                f"errors {self.errors}")


def autosave_clients(base: str, response_ids: list[int]) -> list:
    """Each client signs in as its own official and saves a number question of its response."""
    steps = []
    for i, response_id in enumerate(response_ids):
        session = requests.Session()
        page = session.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        session.post(f"{base}/login", data={"email": f"bench-{i:03d}@example.org", "password": "bench-password",
                                            "csrf_token": token}, allow_redirects=False)
        form = session.get(f"{base}/responses/{response_id}/pages/2").text
        version = int(VERSION.search(form).group(1))
        steps.append(_autosave_step(session, f"{base}/responses/{response_id}/answer", token, version))
    return steps


VERSION = re.compile(r'name="v:ip_investigations" value="(\d+)"')


def _autosave_step(session: requests.Session, url: str, token: str, version: int):
    state = {"version": version, "n": 1}
    headers = {"HX-Request": "true", "X-CSRFToken": token, **CLOSE}

    def step() -> bool:
        state["n"] += 1
        reply = session.post(url, headers=headers, data={
            "path": "ip_investigations", "page": "2", "p:ip_investigations": "1",
            "a:ip_investigations": str(state["n"]), "v:ip_investigations": str(state["version"])})
        match = VERSION.search(reply.text)
        if match:
            state["version"] = int(match.group(1))
        if reply.status_code != 200:
            FAILURES[(reply.status_code, reply.text[-200:])] += 1
        return reply.status_code == 200
    return step


def bare_clients(base: str, clients: int) -> list:
    def make(i: int):
        session = requests.Session()

        def step() -> bool:
            return session.post(f"{base}/insert", data={"value": str(i)}, headers=CLOSE).status_code == 200
        return step
    return [make(i) for i in range(clients)]


def bench_database(label: str, url: str, clients: int, seconds: float, paced: float, rounds_of: int) -> None:
    prepare_database(url, clients)
    median, section, account = render_median(url)
    print(f"\n== {label}")
    print(f"render largest section {section}: median {median:.1f} ms (account page: {account:.1f} ms)")
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as connection:
        ids = [row[0] for row in connection.execute(text(
            "SELECT r.id FROM response r JOIN institution i ON i.id = r.institution_id "
            "WHERE i.name LIKE 'Bench institution %' ORDER BY i.name"))]
    engine.dispose()
    env = {"DATABASE_URL": url, "MATRICA_SECRET_KEY": "bench", "MATRICA_SESSION_COOKIE_SECURE": "false",
           "MATRICA_RATELIMIT_ENABLED": "false", "BENCH_DATABASE_URL": url}
    # Both servers stay up (the idle one costs nothing) and the loads alternate, round by
    # round, so that a slower minute of a shared machine weighs on both endpoints alike.
    servers = {"autosave": Server("wsgi:app", env), "bare": Server("bench.bare_app:app", env)}
    try:
        steps = {"autosave": autosave_clients(f"http://127.0.0.1:{servers['autosave'].port}", ids),
                 "bare": bare_clients(f"http://127.0.0.1:{servers['bare'].port}", clients)}
        rounds = [{name: run_load(steps[name], seconds) for name in ("autosave", "bare")} for _ in range(rounds_of)]
        steady = {name: run_load(steps[name], seconds, interval=paced) for name in ("autosave", "bare")}
    finally:
        for server in servers.values():
            server.stop()
    ratios = [r["autosave"].throughput / r["bare"].throughput for r in rounds]
    middle = sorted(range(rounds_of), key=lambda i: ratios[i])[rounds_of // 2]  # the round with the median ratio
    print(rounds[middle]["autosave"].line(f"autosave, {clients} clients flat out"))
    print(rounds[middle]["bare"].line(f"bare, {clients} clients flat out"))
    print(f"ratio autosave/bare throughput: {ratios[middle]:.2f}, median of {rounds_of} alternating rounds "
          f"({', '.join(f'{r:.2f}' for r in ratios)})  (goal >= 0.50)")
    rate = f"{clients} clients, one save each {paced * 1000:.0f} ms"
    print(steady["autosave"].line(f"autosave, {rate}"))
    print(steady["bare"].line(f"bare, {rate}"))
    print(f"p99 at that rate: autosave {steady['autosave'].p99:.1f} ms, bare {steady['bare'].p99:.1f} ms  "
          "(goal < 50 ms)")
    for (status, tail), count in FAILURES.most_common(3):
        print(f"  {count} x {status}: ...{tail[-120:]!r}")
    FAILURES.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between one client's saves in the steady run (default 0.5)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating saturation rounds (default 7)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="matrica-bench-"))
    try:
        if not args.skip_sqlite:
            bench_database("SQLite", f"sqlite:///{workdir / 'bench.sqlite'}", args.clients, args.seconds, args.interval,
                           args.rounds)
        if not args.skip_postgres:
            import psycopg
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute("DROP DATABASE IF EXISTS matrica_bench")
                connection.execute("CREATE DATABASE matrica_bench")
            bench_database("PostgreSQL", PG_BENCH, args.clients, args.seconds, args.interval, args.rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
