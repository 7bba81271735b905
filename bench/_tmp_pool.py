import os, atexit, sys
from app import create_app
from app.extensions import db
from sqlalchemy import event
cfg = {}
if os.environ.get("POOL"):
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": int(os.environ["POOL"]), "max_overflow": 0, "pool_pre_ping": False}
app = create_app(cfg)
count = [0]
with app.app_context():
    event.listen(db.engine, "connect", lambda *a: count.__setitem__(0, count[0] + 1))
atexit.register(lambda: sys.stderr.write(f"CONNECTS {os.getpid()} {count[0]}\n"))
