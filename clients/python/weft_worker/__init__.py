"""A Weft worker on top of the generated client (weft_client).

Register a handler per task type, then run(). The worker long-polls for tasks (the HTTP timeout is above
wait_seconds), runs each handler in a thread, heartbeats in the background, tells a handler to stop when its lease
is lost or its cancellation was requested, reports success (the return value as XCom ``return_value``) or failure,
asks for its next task in the completion request (complete-and-lease-next) and stops gracefully on SIGTERM/SIGINT.

Python threads cannot be killed: a handler stops by checking ``ctx.cancelled`` (or sleeping with ``ctx.sleep``).

The worker fences itself as the built-in worker does (src/worker/domain/lease-life.ts): once no heartbeat has been
accepted for as long as the lease lives, measured on the server's clock, it sets ``ctx.cancelled`` (``cancel_reason``
``lease_expired``) a second before the lease would end, stops heartbeating that attempt and reports it ``cancelled:
lease_expired`` (retryable) at once, without waiting for the handler, so that the attempt is not reported as running
beside its retry (a partition, an API outage longer than the lease). A handler that ignores the flag runs on in its
thread; whatever it returns then is discarded (logged).
"""

import logging
import os
import random
import signal
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import weft_client
from weft_client.api.leases_api import LeasesApi
from weft_client.models import CompleteLeaseRequest, CompleteLeaseRequestNext, LeaseTasksRequest, AppendLeaseLogsRequest
from weft_client.rest import ApiException

__all__ = ["Worker", "TaskContext", "TaskFailure", "WorkerRefusedError"]

log = logging.getLogger("weft_worker")


class TaskFailure(Exception):
    """Raise to fail the attempt; retryable=False (the default here) means no retry. Other exceptions are retried."""

    def __init__(self, message, retryable=False):
        super().__init__(message)
        self.retryable = retryable


class WorkerRefusedError(Exception):
    """The API refused the worker's key (401) or its right to lease from its queues (403). run() raises it once
    running tasks finished: asking again would not make the key good. The message names the key by its first 12
    characters (the prefix the API lists it under, never the secret) and says what to do."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class TaskContext:
    """What a handler gets: the lease (a weft_client Lease), cancellation, logs and extra XCom."""

    def __init__(self, lease, life=None):
        self.lease = lease
        self._life = life  # how long the lease lives from when its answer arrived (_lease_life), None: unknown
        self.xcom = {}
        self.follow_task_ids = None  # a branch task's choice (follow())
        self.cancel_reason = None
        self._cancelled = threading.Event()
        self._gone = threading.Event()  # the heartbeat answered 409/404: nothing is reported any more
        self._expired = threading.Event()  # fenced (lease_expired): the heartbeat stops, the attempt is reported now
        self._fence = None  # the attempt's _Fence while its handler runs
        self._lines = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one log request at a time, so lines stay in order

    @property
    def map_index(self):
        """This instance's position among its mapped task's instances (0…n−1); −1 for an unmapped task."""
        index = getattr(self.lease, "map_index", None)
        return -1 if index is None else index

    @property
    def expand(self):
        """A mapped instance's values of its task's `expand` keys ({} for an unmapped task)."""
        return getattr(self.lease, "expand", None) or {}

    def follow(self, *task_ids):
        """A branch task's choice: the direct downstream task ids to follow (sent as followTaskIds on success)."""
        self.follow_task_ids = list(task_ids)

    @property
    def cancelled(self):
        return self._cancelled.is_set()

    def sleep(self, seconds):
        """Sleeps; returns False (early) when the task must stop."""
        return not self._cancelled.wait(seconds)

    def log(self, line, stream="stdout"):
        with self._lock:
            self._lines.append({"line": str(line), "stream": stream})

    def push_xcom(self, key, value):
        self.xcom[key] = value

    def _cancel(self, reason):
        if not self._cancelled.is_set():
            self.cancel_reason = reason
            self._cancelled.set()

    def _take_lines(self, limit=1000):
        with self._lock:
            lines, self._lines = self._lines[:limit], self._lines[limit:]
        return lines

    def _put_back(self, lines):
        """Lines whose sending failed for a retryable reason go back to the front, to be sent first next time."""
        with self._lock:
            self._lines = lines + self._lines

    @property
    def _has_lines(self):
        with self._lock:
            return bool(self._lines)


class _Shutdown(Exception):
    pass


class Worker:
    def __init__(self, base_url, api_key=None, worker_id=None, queues=("default",), concurrency=1, wait_seconds=20,
                 shutdown_grace=10.0):
        config = weft_client.Configuration(host=base_url.rstrip("/"))
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        if api_key:
            config.access_token = api_key
        self.api = LeasesApi(weft_client.ApiClient(config))
        self.worker_id = worker_id or "%s-%d" % (socket.gethostname(), os.getpid())
        self.queues = list(queues)
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self.shutdown_grace = shutdown_grace
        self._handlers = {}
        self._running = {}
        self._lock = threading.Lock()
        self._slot_freed = threading.Event()
        self._stopping = threading.Event()
        self._hard_stop = threading.Event()  # set a few seconds after the shutdown grace: reporting gives up
        self._polling = False

    def handle(self, task_type, handler=None):
        """Registers handler(ctx) for a task type; usable as a decorator: @worker.handle("my_type")."""
        if handler is None:
            return lambda fn: self.handle(task_type, fn) or fn
        self._handlers[task_type] = handler
        return self

    def stop(self):
        self._stopping.set()
        self._slot_freed.set()

    def run(self, install_signal_handlers=True):
        """Leases and runs tasks until stop() or SIGTERM/SIGINT; then lets running tasks finish (or cancels them)."""
        if not self._handlers:
            raise ValueError("register at least one handler before run()")
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._on_signal)
        log.info("worker %s: task types %s from queue(s) %s at %s", self.worker_id, ", ".join(sorted(self._handlers)),
                 ", ".join(self.queues), self.base_url)
        backoff = 0.0
        refused = None
        try:
            while not self._stopping.is_set():
                free = self.concurrency - len(self._running)
                if free <= 0:
                    self._slot_freed.wait(1.0)
                    self._slot_freed.clear()
                    continue
                failure = None
                try:
                    self._polling = True
                    leases, date = self._lease(free)
                    backoff = 0.0
                except _Shutdown:
                    break
                except ApiException as err:
                    if err.status in (401, 403) and not self._stopping.is_set():
                        refused = WorkerRefusedError(self._refusal(err), err.status)
                        log.error("%s", refused)
                        break
                    failure = _short(err)
                except Exception as err:  # network trouble: back off and ask again
                    failure = "cannot reach the API at %s: %s" % (self.base_url, _cause(err))
                finally:
                    self._polling = False
                if failure is not None:
                    if self._stopping.is_set():
                        break
                    # Outside the try: a signal during the wait stops the worker instead of raising _Shutdown here.
                    backoff = min(max(backoff * 2, 0.5), 10.0)
                    log.warning("lease request failed (%s); retrying in %.1f s", failure, backoff)
                    self._stopping.wait(backoff)
                    continue
                self._start(leases, date)
        finally:
            self._drain()
        if refused is not None:
            raise refused

    def _refusal(self, err):
        """Which key (its listed 12-character prefix, never the secret), what the API said, what to do."""
        said = "%s: %s" % (err.status, _server_message(err))
        key = "API key %s\u2026" % self._api_key[:12] if self._api_key else "no API key"
        api = "the API at %s" % self.base_url
        if err.status == 403:
            return ("%s does not let %s lease from queue(s) %s (%s): give the worker a key with role worker whose "
                    "queues include them (api_key, or WEFT_API_KEY for the examples and dag.cli()); stopping" % (api, key, ", ".join(self.queues), said))
        if self._api_key:
            return ("%s refused %s (%s): give the worker a valid key with role worker (api_key, or WEFT_API_KEY "
                    "for the examples and dag.cli(); an admin creates one: POST /api/v1/apiKeys); stopping" % (api, key, said))
        return ("%s needs an API key (%s): give the worker a key with role worker (api_key, or WEFT_API_KEY for the "
                "examples and dag.cli(); an admin creates one: POST /api/v1/apiKeys); stopping" % (api, said))

    def _on_signal(self, signum, frame):
        self.stop()
        if self._polling:  # interrupt the long poll instead of waiting for it to end
            raise _Shutdown()

    def _request(self, capacity, wait_seconds):
        return dict(queues=self.queues, capacity=capacity, wait_seconds=wait_seconds,
                    task_types=sorted(self._handlers), hostname=socket.gethostname())

    def _lease(self, capacity):
        body = LeaseTasksRequest(**self._request(capacity, self.wait_seconds))
        # The server holds the request up to wait_seconds: the read timeout is longer.
        batch, _, headers = self.api.lease_tasks_with_http_info(self.worker_id, body,
                                                                _request_timeout=(10, self.wait_seconds + 15))
        return batch.leases, headers.get("Date")

    def _start(self, leases, date=None):
        for lease in leases or []:
            ctx = TaskContext(lease, _lease_life(lease.lease_expires_at, date))
            thread = threading.Thread(target=self._execute, args=(ctx,), name="weft-%s" % lease.task_id, daemon=True)
            with self._lock:
                self._running[lease.lease_id] = (ctx, thread)
            thread.start()

    def _drain(self):
        deadline = time.monotonic() + self.shutdown_grace
        for ctx, thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        for ctx, thread in list(self._running.values()):
            ctx._cancel("shutdown")
        # Stopped tasks report once more (retryable); what cannot be reported soon is left to the lease's expiry.
        stragglers = threading.Timer(_STOPPED_REPORT_SECONDS, self._hard_stop.set)
        stragglers.daemon = True
        stragglers.start()
        for ctx, thread in list(self._running.values()):
            thread.join()
        stragglers.cancel()

    def _execute(self, ctx):
        """One attempt: run the handler, then report it. The heartbeat goes on until the report is settled; log lines
        and the completion are sent until the API accepts or refuses them (a 503 while its database is down is retried
        with backoff, however long it lasts), so an outage never makes a finished task run again. Only the heartbeat
        answering 409 (the lease is gone) or the end of the shutdown grace stops that.

        While the handler runs (in its own thread), the attempt is fenced: without an accepted heartbeat for as long as
        the lease lives (_lease_life), it is cancelled with 'lease_expired' a second before the lease would end
        (_fence_delay), its heartbeat stops and it is reported failed and retryable without waiting for the handler."""
        lease = ctx.lease
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(ctx, done), daemon=True)
        beat.start()
        deadline_timer = None
        if lease.execution_deadline is not None:
            wait = (lease.execution_deadline - datetime.now(timezone.utc)).total_seconds()
            deadline_timer = threading.Timer(max(0.0, wait), ctx._cancel, args=("execution_timeout",))
            deadline_timer.daemon = True
            deadline_timer.start()
        ended = threading.Event()  # the handler returned, or the attempt was fenced
        result = {}

        def call():
            try:
                handler = self._handlers.get(lease.task_type)
                if handler is None:
                    raise RuntimeError("no handler for task type %r" % lease.task_type)
                result["value"] = handler(ctx)
            except BaseException as err:  # reported as the attempt's failure, never as a success
                result["error"] = err
            finally:
                if ctx._expired.is_set():
                    log.warning("%s try %s: the handler returned after the lease expired; its result is discarded",
                                lease.task_id, lease.try_number)
                ended.set()

        fence = _Fence(ctx, ended)
        fence.extend(ctx._life)
        threading.Thread(target=call, name="weft-%s-handler" % lease.task_id, daemon=True).start()
        ended.wait()
        fence.stop()
        if deadline_timer is not None:
            deadline_timer.cancel()
        if ctx._expired.is_set() or ctx.cancelled:
            outcome = self._cancelled_outcome(ctx)
        elif "error" in result:
            err = result["error"]
            retryable = err.retryable if isinstance(err, TaskFailure) else True
            outcome = dict(status="failed", error=_short(err), retryable=retryable)
        else:
            value = result.get("value")
            if value is not None:
                ctx.xcom["return_value"] = value
            outcome = dict(status="success", xcom=ctx.xcom or None)
            if ctx.follow_task_ids is not None:
                outcome["follow_task_ids"] = ctx.follow_task_ids
        try:
            if ctx.cancel_reason == "lease_lost":
                log.warning("%s try %s: lease lost, result discarded", lease.task_id, lease.try_number)
            else:
                logged, reason = self._until_settled(ctx, "sending log lines", lambda: self._flush(ctx))
                if logged == "refused":
                    log.warning("%s try %s: log lines refused: %s", lease.task_id, lease.try_number, reason)
                self._complete(ctx, outcome)
        finally:
            done.set()
            beat.join()
            with self._lock:
                self._running.pop(lease.lease_id, None)
            self._slot_freed.set()

    @staticmethod
    def _cancelled_outcome(ctx):
        return dict(status="failed", error="cancelled: %s" % ctx.cancel_reason,
                    retryable=ctx.cancel_reason != "cancel_requested")

    def _heartbeat(self, ctx, done):
        lease = ctx.lease
        ttl = (lease.lease_expires_at - datetime.now(timezone.utc)).total_seconds()
        every = max(0.5, min(float(lease.heartbeat_interval_sec), ttl / 3.0))
        failing = False
        while not done.wait(every):
            if ctx._expired.is_set():
                return  # fenced: this attempt is over, its lease is not extended any more
            try:
                beat, _, headers = self.api.heartbeat_lease_with_http_info(lease.lease_id,
                                                                           _request_timeout=(5, every * 2))
                if ctx._fence is not None:
                    ctx._fence.extend(_lease_life(beat.lease_expires_at, headers.get("Date")))
                if beat.cancel_requested:
                    ctx._cancel("cancel_requested")
                failing = False
            except ApiException as err:
                if err.status in (404, 409):
                    ctx._cancel("lease_lost")
                    ctx._gone.set()
                    return
                if not failing:
                    log.warning("heartbeat failed: %s; retrying", _short(err))
                failing = True
            except Exception as err:
                if not failing:
                    log.warning("heartbeat failed: %s; retrying", _short(err))
                failing = True
            # Never waits for a send under way (the heartbeat must keep its pace): that one takes these lines too.
            self._flush(ctx, wait=False)

    def _flush(self, ctx, wait=True):
        """Sends the pending log lines, batch by batch: ('accepted', None), ('refused', reason): that batch is dropped,
        or ('retry', reason): the batch goes back to the front."""
        if not ctx._send_lock.acquire(blocking=wait):
            return "retry", "another send is under way"
        try:
            while True:
                lines = ctx._take_lines()
                if not lines:
                    return "accepted", None
                sent = _send(lambda: self.api.append_lease_logs(ctx.lease.lease_id, AppendLeaseLogsRequest(lines=lines),
                                                               _request_timeout=(5, 30)))
                if sent[0] == "retry":
                    ctx._put_back(lines)
                if sent[0] != "accepted":
                    return sent
        finally:
            ctx._send_lock.release()

    def _until_settled(self, ctx, what, attempt):
        """Calls attempt() -> (outcome, value) with backoff while the outcome is 'retry'. Returns ('accepted', value),
        ('refused', reason) or ('stopped', None): the lease is gone, or the worker gave up at shutdown."""
        lease = ctx.lease
        n = 0
        while True:
            if ctx._gone.is_set() or self._hard_stop.is_set():
                return "stopped", None
            outcome = attempt()
            if outcome[0] != "retry":
                return outcome
            n += 1
            if n == 1:
                log.warning("%s try %s: %s failed (%s); retrying until the API takes it", lease.task_id,
                            lease.try_number, what, outcome[1])
            ceiling = min(2.0, 0.25 * 2 ** (n - 1))
            delay = ceiling / 2 + random.random() * ceiling / 2
            # Wakes early when the lease is gone.
            if ctx._gone.wait(delay) or self._hard_stop.is_set():
                return "stopped", None

    def _complete(self, ctx, outcome):
        lease = ctx.lease
        nxt = None if self._stopping.is_set() else CompleteLeaseRequestNext(**self._request(1, 0))
        body = CompleteLeaseRequest(next=nxt, **outcome)
        settled, value = self._until_settled(
            ctx, "sending the completion",
            lambda: _send(lambda: _leases_and_date(
                self.api.complete_lease_with_http_info(lease.lease_id, body, _request_timeout=(10, 30)))))
        if settled == "accepted":
            # The finished task's slot goes to the next one (registered before this one is released).
            self._start(*value)
        elif settled == "refused":
            log.warning("%s try %s: completion refused: %s", lease.task_id, lease.try_number, value)
        else:
            log.warning("%s try %s: completion not sent (lease lost or shutting down)", lease.task_id, lease.try_number)


_STOPPED_REPORT_SECONDS = 5.0


def _leases_and_date(answer):
    """The leases a completion brought back, and its Date header (what their life is measured from)."""
    result, _, headers = answer
    return result.leases, headers.get("Date")


def _lease_life(lease_expires_at, date_header):
    """How many seconds longer the server counts a lease as live, on the server's own clock (no skew between the
    worker's clock and the server's enters): leaseExpiresAt minus the Date header of the same answer, less a second
    for the header's resolution (it is truncated to the second). None when either is missing or not a date (a proxy
    that drops Date): the worker cannot tell then, and does not fence. The built-in worker's rule
    (src/worker/domain/lease-life.ts)."""
    if lease_expires_at is None or not date_header:
        return None
    try:
        server_now = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if server_now is None or server_now.tzinfo is None or lease_expires_at.tzinfo is None:
        return None
    return max(0.0, (lease_expires_at - server_now).total_seconds() - 1.0)


def _fence_delay(life):
    """When to stop an attempt whose lease lives `life` seconds more unless a heartbeat extends it: a second before
    the end (half the life, for a lease shorter than two seconds), so that it is gone before the reaper can hand the
    task to another worker."""
    return max(life / 2.0, life - 1.0)


class _Fence:
    """The attempt's own view of its lease: restarted by every answer that extends it (the lease, then each accepted
    heartbeat); when it runs out, the attempt is cancelled ('lease_expired') and `ended` set so that it is reported."""

    def __init__(self, ctx, ended):
        self._ctx = ctx
        self._ended = ended
        self._lock = threading.Lock()
        self._timer = None
        self._generation = 0  # a timer that fired as it was replaced finds a newer generation and does nothing
        self._stopped = False
        ctx._fence = self

    def extend(self, life):
        if life is None:
            return
        with self._lock:
            if self._stopped:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._generation += 1
            self._timer = threading.Timer(_fence_delay(life), self._expire, args=(self._generation,))
            self._timer.daemon = True
            self._timer.start()

    def stop(self):
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()

    def _expire(self, generation):
        with self._lock:
            if self._stopped or generation != self._generation:
                return
            self._stopped = True
        ctx = self._ctx
        log.warning("%s try %s: no heartbeat accepted for as long as the lease lives (the API unreachable or "
                    "unavailable, or this worker stalled): stopping the task before it can be leased again; reporting "
                    "cancelled: lease_expired, whatever the handler returns now is discarded",
                    ctx.lease.task_id, ctx.lease.try_number)
        ctx._expired.set()
        ctx._cancel("lease_expired")
        self._ended.set()


def _send(call):
    """One request: ('accepted', result), ('refused', reason) for a 4xx the server means (409: the lease is gone),
    or ('retry', reason) for a network error, a timeout, a 5xx (the API's database down), 408, 425 or 429."""
    try:
        return "accepted", call()
    except ApiException as err:
        if err.status is not None and err.status < 500 and err.status not in (408, 425, 429):
            return "refused", _short(err)
        return "retry", _short(err)
    except Exception as err:
        return "retry", _short(err)


def _server_message(err):
    body = err.body.decode() if isinstance(err.body, bytes) else err.body
    try:
        import json
        return json.loads(body).get("message") or body
    except Exception:
        return body


def _cause(err):
    """'[Errno 111] Connection refused' out of urllib3's MaxRetryError(NewConnectionError(<object at 0x…>: …))."""
    reason = getattr(err, "reason", None) or err
    text = str(reason) or type(reason).__name__
    return text.rsplit(": ", 1)[-1].rstrip("')\"") if "Errno" in text else text


def _short(err):
    if isinstance(err, ApiException):
        body = err.body.decode() if isinstance(err.body, bytes) else err.body
        return "HTTP %s %s" % (err.status, body)
    return str(err) or type(err).__name__
