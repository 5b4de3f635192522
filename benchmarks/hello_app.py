"""A hello-world Bottle app: the baseline the survey server is compared with in
benchmarks/ingest.py (same granian settings, so the ratio shows cxlab's own cost)."""

import bottle

app = bottle.Bottle()


@app.post("/hello")
@app.get("/hello")
def hello():
    return {"hello": "world"}
