"""Autosave: how fast the form renders and answers are saved, against a bare baseline.

    .venv/bin/python bench/autosave.py [--seconds 8] [--clients 32] [--skip-postgres]

Prints, for SQLite and PostgreSQL:
* the median server time to render the largest section of the BAN questionnaire (in process);
* autosave throughput, p50 and p99 latency with N concurrent clients against gunicorn, each
  client saving answers of its own response;
* the same for a bare Flask endpoint doing one INSERT and a commit on the same database,
  served by the same gunicorn settings in the same run — and the ratio between the two.
The goal: at least half the bare endpoint's throughput, and p99 under 50 ms.
"""
from __future__ import annotations

import argparse
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
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
GUNICORN = [str(Path(PYTHON).parent / "gunicorn"), "--no-control-socket", "--workers", "2", "--threads", "16",
            "--worker-class", "gthread", "--log-level", "warning"]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/matrica_bench"


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
"""
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True)


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


def run_load(make_worker, clients: int, seconds: float, warmup: float = 2.0) -> tuple[float, float, float, int]:
    """N clients, each sending its next request as soon as the last is answered. The first
    ``warmup`` seconds (each gunicorn worker's first requests fill its caches) are not counted."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_barrier = threading.Barrier(clients + 1)
    stop = threading.Event()
    counting = threading.Event()

    def body(i: int) -> None:
        step = make_worker(i)
        start_barrier.wait()
        while not stop.is_set():
            started = time.perf_counter()
            ok = step()
            if counting.is_set():
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
    return len(flat) / elapsed, statistics.median(flat), p99, sum(errors)


def autosave_worker_factory(base: str, response_ids: list[int]):
    def make(i: int):
        session = requests.Session()
        page = session.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        session.post(f"{base}/login", data={"email": f"bench-{i:03d}@example.org", "password": "bench-password",
                                            "csrf_token": token}, allow_redirects=False)
        response_id = response_ids[i]
        version = {"value": 0}
        counter = {"n": 0}
        headers = {"HX-Request": "true", "X-CSRFToken": token, **({"Connection": "close"} if os.environ.get("CLOSE") else {})}
        url = f"{base}/responses/{response_id}/answer"
        pattern = re.compile(r'name="v:ip_investigations" value="(\d+)"')

        def step() -> bool:
            counter["n"] += 1
            reply = session.post(url, headers=headers, data={
                "path": "ip_investigations", "page": "2", "p:ip_investigations": "1",
                "a:ip_investigations": str(counter["n"]), "v:ip_investigations": str(version["value"])})
            match = pattern.search(reply.text)
            if match:
                version["value"] = int(match.group(1))
            return reply.status_code == 200
        return step
    return make


def bare_worker_factory(base: str):
    def make(i: int):
        session = requests.Session()

        def step() -> bool:
            return session.post(f"{base}/insert", data={"value": str(i)}, headers={"Connection": "close"} if os.environ.get("CLOSE") else {}).status_code == 200
        return step
    return make


def bench_database(label: str, url: str, clients: int, seconds: float) -> None:
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
    app_server = Server("wsgi:app", env)
    try:
        throughput, p50, p99, errors = run_load(autosave_worker_factory(f"http://127.0.0.1:{app_server.port}", ids),
                                                clients, seconds)
    finally:
        app_server.stop()
    bare_server = Server("bench.bare_app:app", env)
    try:
        b_throughput, b_p50, b_p99, b_errors = run_load(bare_worker_factory(f"http://127.0.0.1:{bare_server.port}"),
                                                        clients, seconds)
    finally:
        bare_server.stop()
    print(f"autosave  {clients} clients: {throughput:7.1f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}")
    print(f"bare      {clients} clients: {b_throughput:7.1f} req/s  p50 {b_p50:6.1f} ms  p99 {b_p99:6.1f} ms  errors {b_errors}")
    print(f"ratio autosave/bare throughput: {throughput / b_throughput:.2f}  (goal >= 0.50; p99 goal < 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="matrica-bench-"))
    try:
        bench_database("SQLite", f"sqlite:///{workdir / 'bench.sqlite'}", args.clients, args.seconds)
        if not args.skip_postgres:
            import psycopg
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute("DROP DATABASE IF EXISTS matrica_bench")
                connection.execute("CREATE DATABASE matrica_bench")
            bench_database("PostgreSQL", PG_BENCH, args.clients, args.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
