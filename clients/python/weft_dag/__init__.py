"""Pipelines as code for Weft, in Airflow's idiom.

    from datetime import datetime, timezone
    from weft_dag import DAG, ShellTask, HttpTask, task

    with DAG("daily_etl", schedule="0 6 * * *", start_date=datetime(2024, 1, 1, tzinfo=timezone.utc)) as dag:
        extract = ShellTask(task_id="extract", command="extract.sh {{ ds }}")

        @task
        def transform(rows):
            return {"rows": rows}

        load = HttpTask(task_id="load", request={"method": "POST", "url": "https://example.com/load"})
        extract >> transform("{{ ds }}") >> load

    dag.deploy()          # or: python3 this_file.py deploy
    dag.run_worker()      # runs the @task functions: python3 this_file.py worker

Keyword arguments are the document's fields in snake_case (``max_active_runs`` is ``maxActiveRuns``); a field of
seconds also takes a ``timedelta``, with or without its ``_sec`` suffix (``retry_delay=timedelta(minutes=5)``).
Field names are read from the DAG JSON Schema shipped in this package (``dag.schema.json``, the schema the service
serves at /api/v1/schemas/dag.json, copied here when the clients are regenerated): a misspelt field fails at once,
and a field added to the schema is accepted after regenerating, with no code change here. Values inside dicts
(``request``, ``args``, ``default_args``…) are written as they appear in the document, except that
``default_args`` keys may be snake_case too.

A ``@task`` function becomes a task of a custom type (``<dag_id>.<function name>`` unless given); the document
names that type and ``dag.worker()`` registers the function for it. Arguments are JSON values (strings may hold
templates such as ``{{ ds }}``) or other ``@task`` calls, whose return values are passed in through XCom.
"""

import argparse
import inspect
import json
import logging
import os
import re
import sys
import threading
from datetime import datetime, timedelta, timezone

__all__ = [
    "DAG", "Task", "ShellTask", "HttpTask", "SqlTask", "NoopTask", "ExternalTaskSensor", "CustomTask", "PythonTask",
    "task", "chain", "DagBuildError", "DeployResult",
]

_SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dag.schema.json")
_schema = None


def _load_schema():
    global _schema
    if _schema is None:
        with open(_SCHEMA_FILE, encoding="utf-8") as f:
            _schema = json.load(f)
    return _schema


def _task_schemas():
    """{type: property names} of each built-in task type, and the custom task's property names (read from the schema)."""
    schema = _load_schema()
    by_type, custom = {}, None
    for ref in schema["properties"]["tasks"]["items"]["anyOf"]:
        definition = schema["$defs"][ref["$ref"].split("/")[-1]]
        const = definition["properties"]["type"].get("const")
        if const is None:
            custom = definition
        else:
            by_type[const] = definition
    return by_type, custom


class DagBuildError(Exception):
    """A DAG that cannot be built: an unknown field, a task id used twice, a value that is not JSON…"""


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _json_value(value, where):
    """Converts datetimes and timedeltas; refuses what JSON cannot carry."""
    if isinstance(value, datetime):
        return _iso(value, where)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds == int(seconds) else seconds
    if isinstance(value, dict):
        return {str(k): _json_value(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v, where) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise DagBuildError("%s: %r is not a JSON value" % (where, value))


def _iso(value, where):
    if value.tzinfo is None:
        raise DagBuildError("%s: give a timezone-aware datetime (e.g. tzinfo=timezone.utc)" % where)
    if value.utcoffset() == timedelta(0):
        text = value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
        return text + "Z"
    return value.isoformat()


def _fields(kwargs, properties, where):
    """snake_case keyword arguments → the document's camelCase fields, checked against the schema's names."""
    out = {}
    for name, value in kwargs.items():
        key = _camel(name)
        if key not in properties and key + "Sec" in properties:
            key += "Sec"  # retry_delay=timedelta(minutes=5) → retryDelaySec: 300
        if key not in properties:
            allowed = ", ".join(sorted(re.sub(r"([A-Z])", r"_\1", p).lower() for p in properties))
            raise DagBuildError("%s: unknown field %r (the document has: %s)" % (where, name, allowed))
        if value is None and name not in ("schedule", "start_date", "end_date", "external_task_id"):
            continue  # None means "not given", except where the document itself takes null
        out[key] = _json_value(value, "%s.%s" % (where, name))
    return out


_context = threading.local()


def _current_dag():
    stack = getattr(_context, "dags", None)
    return stack[-1] if stack else None


class DeployResult(object):
    """What dag.deploy() did: status is 'created', 'updated' (a new version) or 'unchanged'."""

    def __init__(self, dag_id, status, version):
        self.dag_id, self.status, self.version = dag_id, status, version

    def __repr__(self):
        return "DeployResult(dag_id=%r, status=%r, version=%r)" % (self.dag_id, self.status, self.version)


class DAG(object):
    """A DAG; tasks created inside ``with DAG(...) as dag:`` belong to it."""

    def __init__(self, dag_id, **kwargs):
        properties = _load_schema()["properties"]
        if "default_args" in kwargs and kwargs["default_args"] is not None:
            kwargs = dict(kwargs, default_args=_fields(
                kwargs["default_args"], _load_schema()["$defs"]["DefaultArgs"]["properties"], "DAG %r default_args" % dag_id))
        self.dag_id = dag_id
        self._fields = _fields(kwargs, properties, "DAG %r" % dag_id)
        self.tasks = []
        self._by_id = {}

    def __enter__(self):
        if not hasattr(_context, "dags"):
            _context.dags = []
        _context.dags.append(self)
        return self

    def __exit__(self, *exc):
        _context.dags.pop()
        return False

    def _add(self, t):
        if t.task_id in self._by_id:
            raise DagBuildError("DAG %r already has a task %r" % (self.dag_id, t.task_id))
        self._by_id[t.task_id] = t
        self.tasks.append(t)

    def get_task(self, task_id):
        return self._by_id[task_id]

    def _unique_task_id(self, base):
        if base not in self._by_id:
            return base
        n = 1
        while "%s__%d" % (base, n) in self._by_id:
            n += 1
        return "%s__%d" % (base, n)

    def to_dict(self):
        """The document, exactly as deploy() sends it."""
        doc = {"dagId": self.dag_id}
        doc.update(json.loads(json.dumps(self._fields)))
        doc["tasks"] = [t.to_dict() for t in self.tasks]
        return doc

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent)

    # --- talking to the service (the generated client, weft_client) -------------------------------------------

    @staticmethod
    def _api(base_url=None, api_key=None):
        import weft_client
        from weft_client.api.dags_api import DagsApi

        base_url = base_url or os.environ.get("WEFT_API_URL")
        if not base_url:
            raise DagBuildError("no Weft API URL: pass base_url or set WEFT_API_URL")
        config = weft_client.Configuration(host=base_url.rstrip("/"))
        api_key = api_key or os.environ.get("WEFT_API_KEY")
        if api_key:
            config.access_token = api_key
        return DagsApi(weft_client.ApiClient(config))

    def deploy(self, base_url=None, api_key=None):
        """Registers the document (default WEFT_API_URL, WEFT_API_KEY); a refused one raises weft_client ApiException."""
        # The answer is read as JSON: generator 4.3.1's Dag model refuses the null schedule of a manual-only DAG.
        answer = self._api(base_url, api_key).upsert_dag(self.to_dict(), _preload_content=False)
        result = json.loads(answer.data)
        status = "created" if result["created"] else "updated" if result["changed"] else "unchanged"
        return DeployResult(self.dag_id, status, result["version"])

    def preview(self, base_url=None, api_key=None):
        """What deploy() would do, writing nothing: {dagId, action, currentVersion, version, document}."""
        answer = self._api(base_url, api_key).validate_dag(self.to_dict(), _preload_content=False)
        return json.loads(answer.data)

    # --- the worker for this DAG's @task functions ----------------------------------------------------------

    def python_tasks(self):
        return [t for t in self.tasks if isinstance(t, PythonTask)]

    def worker(self, base_url=None, api_key=None, queues=None, **worker_options):
        """A weft_worker.Worker with a handler for each @task function of this DAG, leasing from their queues."""
        from weft_worker import Worker

        tasks = self.python_tasks()
        if not tasks:
            raise DagBuildError("DAG %r has no @task functions to run" % self.dag_id)
        default_queue = self._fields.get("defaultArgs", {}).get("queue", "default")
        queues = queues or sorted({t.fields.get("queue", default_queue) for t in tasks})
        w = Worker(base_url=(base_url or os.environ.get("WEFT_API_URL", "http://127.0.0.1:8080")),
                   api_key=api_key or os.environ.get("WEFT_API_KEY"), queues=queues, **worker_options)
        for t in tasks:
            w.handle(t.type, t.handler)
        return w

    def run_worker(self, **options):
        """Runs worker() until SIGTERM/SIGINT."""
        self.worker(**options).run()

    def cli(self, argv=None):
        """``python3 file.py show | deploy [--dry-run] | worker``: the DAG file as its own command."""
        parser = argparse.ArgumentParser(description="DAG %s" % self.dag_id)
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("show", help="print the document")
        deploy = sub.add_parser("deploy", help="register the DAG (WEFT_API_URL, WEFT_API_KEY)")
        deploy.add_argument("--dry-run", action="store_true", help="tell what would change, write nothing")
        worker = sub.add_parser("worker", help="run the @task functions of this DAG")
        worker.add_argument("--concurrency", type=int, default=1)
        args = parser.parse_args(argv)
        if args.command == "show":
            print(self.to_json())
        elif args.command == "deploy" and args.dry_run:
            preview = self.preview()
            print("%s: would %s (version %s)" % (self.dag_id, preview["action"], preview["version"]))
        elif args.command == "deploy":
            result = self.deploy()
            print("%s: %s, version %d" % (result.dag_id, result.status, result.version))
        else:
            from weft_worker import WorkerRefusedError

            if not logging.getLogger().handlers:  # the worker's lines, timestamped, unless the caller set logging up
                logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
            try:
                self.run_worker(concurrency=args.concurrency, worker_id=os.environ.get("WEFT_WORKER_ID"))
            except WorkerRefusedError:
                sys.exit(1)  # the worker has said which key and what to do; a traceback would add nothing


class Task(object):
    """A task of the document. Dependencies: ``a >> b``, ``[a, b] >> c``, ``a << b``, ``chain(a, b, c)``."""

    def __init__(self, task_id, type, dag=None, **kwargs):
        by_type, custom = _task_schemas()
        definition = by_type.get(type, custom)
        self.dag = dag or _current_dag()
        if self.dag is None:
            raise DagBuildError("task %r is outside a DAG: create it inside `with DAG(...)` or pass dag=" % task_id)
        self.task_id = task_id
        self.type = type
        depends_on = kwargs.pop("depends_on", None) or []
        self.fields = _fields(kwargs, {k: v for k, v in definition["properties"].items()
                                       if k not in ("taskId", "type", "dependsOn")}, "task %r" % task_id)
        self.upstream_task_ids = list(depends_on)
        self.dag._add(self)

    def set_upstream(self, other):
        for t in _tasks(other):
            if t.dag is not self.dag:
                raise DagBuildError("task %r belongs to DAG %r, not %r" % (t.task_id, t.dag.dag_id, self.dag.dag_id))
            if t.task_id == self.task_id:
                raise DagBuildError("task %r cannot depend on itself" % self.task_id)
            if t.task_id not in self.upstream_task_ids:
                self.upstream_task_ids.append(t.task_id)

    def set_downstream(self, other):
        for t in _tasks(other):
            t.set_upstream(self)

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __lshift__(self, other):
        self.set_upstream(other)
        return other

    def __rrshift__(self, other):  # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other):  # [a, b] << self
        self.set_downstream(other)
        return self

    def to_dict(self):
        doc = {"taskId": self.task_id, "type": self.type}
        if self.upstream_task_ids:
            doc["dependsOn"] = list(self.upstream_task_ids)
        doc.update(json.loads(json.dumps(self.fields)))
        return doc

    def __repr__(self):
        return "<%s %s.%s>" % (type(self).__name__, self.dag.dag_id, self.task_id)


def _tasks(other):
    items = other if isinstance(other, (list, tuple)) else [other]
    for t in items:
        if not isinstance(t, Task):
            raise DagBuildError("expected a task or a list of tasks, got %r" % (t,))
    return items


def chain(*tasks):
    """chain(a, b, [c, d], e): each element runs after the one before it."""
    for up, down in zip(tasks, tasks[1:]):
        for t in _tasks(down):
            t.set_upstream(up)


class ShellTask(Task):
    def __init__(self, task_id, command, **kwargs):
        super().__init__(task_id, "shell", command=command, **kwargs)


class HttpTask(Task):
    """request: {"method": ..., "url": ..., "headers"?, "body"?, "expectStatus"?}."""

    def __init__(self, task_id, request, **kwargs):
        super().__init__(task_id, "http", request=request, **kwargs)


class SqlTask(Task):
    def __init__(self, task_id, sql, **kwargs):
        super().__init__(task_id, "sql", sql=sql, **kwargs)


class NoopTask(Task):
    def __init__(self, task_id, **kwargs):
        super().__init__(task_id, "noop", **kwargs)


class ExternalTaskSensor(Task):
    """Waits, without a worker slot, for a task (or with external_task_id=None the whole run) of another DAG."""

    def __init__(self, task_id, external_dag_id, **kwargs):
        super().__init__(task_id, "external_task", external_dag_id=external_dag_id, **kwargs)


class CustomTask(Task):
    """A task of a custom type, run by whichever worker registered a handler for it."""

    def __init__(self, task_id, type, args=None, **kwargs):
        super().__init__(task_id, type, args=args, **kwargs)


_XCOM = "$xcom"


class PythonTask(CustomTask):
    """A call of a @task function: a custom task whose args hold the call's arguments; upstream calls by reference."""

    def __init__(self, fn, type, call_args, call_kwargs, task_id=None, **kwargs):
        dag = kwargs.pop("dag", None) or _current_dag()
        if dag is None:
            raise DagBuildError("@task %s was called outside a DAG" % fn.__name__)
        self.fn = fn
        upstream = []

        def encode(value, where):
            if isinstance(value, Task):
                upstream.append(value)
                return {_XCOM: value.task_id}
            if isinstance(value, dict):
                if _XCOM in value:
                    raise DagBuildError("%s: %r is reserved for references to other tasks" % (where, _XCOM))
                return {str(k): encode(v, where) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [encode(v, where) for v in value]
            return _json_value(value, where)

        where = "@task %s" % fn.__name__
        args = {}
        if call_args:
            args["args"] = [encode(v, where) for v in call_args]
        if call_kwargs:
            args["kwargs"] = {k: encode(v, where) for k, v in call_kwargs.items()}
        task_type = type or "%s.%s" % (dag.dag_id, fn.__name__)
        super().__init__(task_id or dag._unique_task_id(fn.__name__), task_type, args=args or None, dag=dag, **kwargs)
        pulled = []
        for t in upstream:
            self.set_upstream(t)
            if t.task_id not in pulled:
                pulled.append(t.task_id)
        if pulled:
            self.fields["xcomPull"] = sorted(set(self.fields.get("xcomPull", [])) | set(pulled))

    def handler(self, ctx):
        """Runs the function for one lease: arguments from the rendered task, references from upstream XCom."""
        upstream = ctx.lease.upstream_xcom or {}

        def decode(value):
            if isinstance(value, dict):
                if set(value) == {_XCOM}:
                    return (upstream.get(value[_XCOM]) or {}).get("return_value")
                return {k: decode(v) for k, v in value.items()}
            if isinstance(value, list):
                return [decode(v) for v in value]
            return value

        args = ctx.lease.task.get("args") or {}
        call_args = [decode(v) for v in args.get("args", [])]
        call_kwargs = {k: decode(v) for k, v in args.get("kwargs", {}).items()}
        if "ctx" in inspect.signature(self.fn).parameters:
            call_kwargs["ctx"] = ctx
        return self.fn(*call_args, **call_kwargs)


class _TaskFunction(object):
    def __init__(self, fn, options):
        self.fn = fn
        self.options = options
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args, **kwargs):
        options = dict(self.options)
        return PythonTask(self.fn, options.pop("type", None), args, kwargs, **options)

    def override(self, **options):
        """transform.override(task_id="transform_eu", queue="eu")(rows): the same function with other task options."""
        return _TaskFunction(self.fn, dict(self.options, **options))


def task(fn=None, **options):
    """``@task`` or ``@task(type=..., task_id=..., queue=..., retries=...)``: calling the function inside a DAG adds a task."""
    if fn is None:
        return lambda f: _TaskFunction(f, options)
    return _TaskFunction(fn, options)


def _main(argv=None):
    """python3 -m weft_dag FILE.py…: prints the documents of the DAGs each file defines (one JSON array)."""
    import runpy

    files = (argv if argv is not None else sys.argv[1:])
    if not files:
        print("usage: python3 -m weft_dag FILE.py…", file=sys.stderr)
        return 2
    docs = []
    for path in files:
        found = runpy.run_path(path, run_name="weft_dag_file")
        docs.extend(v.to_dict() for v in found.values() if isinstance(v, DAG))
    print(json.dumps(docs, indent=2))
    return 0
