"""Example worker: runs tasks of type ``py_step``. Its result extends the ``chain`` it finds in its upstream tasks'
XCom (the TypeScript and Go examples do the same for ``ts_step`` and ``go_step``; see clients/README.md).

    WEFT_API_URL=http://127.0.0.1:8080 WEFT_API_KEY=... python3 examples/chain_worker.py
"""
import logging
import os
import sys

from weft_worker import Worker, WorkerRefusedError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

worker = Worker(
    base_url=os.environ.get("WEFT_API_URL", "http://127.0.0.1:8080"),
    api_key=os.environ.get("WEFT_API_KEY"),
    worker_id=os.environ.get("WEFT_WORKER_ID"),
    queues=os.environ.get("WEFT_WORKER_QUEUES", "default").split(","),
    wait_seconds=int(os.environ.get("WEFT_WAIT_SECONDS", "20")),
    concurrency=int(os.environ.get("WEFT_WORKER_CONCURRENCY", "1")),
)


@worker.handle("py_step")
def step(ctx):
    args = ctx.lease.task.get("args") or {}
    if args.get("hangOnFirstTry") and ctx.lease.try_number == 1:
        ctx.log("first try: hanging until stopped")
        while ctx.sleep(1):
            pass
        # Why it had to stop: lease_lost, lease_expired, cancel_requested, shutdown or execution_timeout.
        logging.info("first try: stopped (%s)", ctx.cancel_reason)
    # Tests hold a task until a moment of their choosing (a file appears), and may ask for no log line (silent).
    while args.get("holdUntilFile") and not os.path.exists(args["holdUntilFile"]) and ctx.sleep(0.05):
        pass
    upstream = [x.get("return_value") for x in ctx.lease.upstream_xcom.values()]
    upstream = [r for r in upstream if isinstance(r, dict) and isinstance(r.get("chain"), list)]
    longest = max(upstream, key=lambda r: len(r["chain"]), default={"chain": [], "total": 0})
    total = longest["total"] + float(args.get("add", 1))
    if not args.get("silent"):
        ctx.log("try %d: total %s" % (ctx.lease.try_number, total))
    ctx.push_xcom("greeting", "hello from Python")
    return {"language": "py", "chain": longest["chain"] + ["py"], "total": total}


if __name__ == "__main__":
    try:
        worker.run()
    except WorkerRefusedError:
        sys.exit(1)  # the worker has said which key and what to do
