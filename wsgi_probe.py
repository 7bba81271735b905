import time, threading, os, sys
sys.path.insert(0, "/work/main")
from wsgi import app as flask_app
_lock = threading.Lock(); _acc = {"n": 0, "cpu": 0.0, "wall": 0.0}
def app(environ, start_response):
    c0 = time.thread_time(); w0 = time.perf_counter()
    body = flask_app(environ, start_response)
    try:
        out = b"".join(body)
    finally:
        if hasattr(body, "close"): body.close()
    c1 = time.thread_time(); w1 = time.perf_counter()
    with _lock:
        _acc["n"] += 1; _acc["cpu"] += c1 - c0; _acc["wall"] += w1 - w0
        if _acc["n"] % 500 == 0:
            with open(f"/tmp/p/probe-{os.getpid()}.log", "a") as f:
                f.write(f"{_acc['n']} cpu/req {1000*_acc['cpu']/_acc['n']:.2f} ms wall/req {1000*_acc['wall']/_acc['n']:.2f}\n")
            _acc.update(n=0, cpu=0.0, wall=0.0)
    return [out]
