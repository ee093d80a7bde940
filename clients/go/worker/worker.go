// Package worker runs Weft tasks on top of the generated client (package weftapi).
//
// Register a handler per task type, then Run. The worker long-polls for tasks (the HTTP timeout is above
// WaitSeconds), heartbeats in the background, cancels a handler's context when its lease is lost or cancellation
// is requested, reports success (the returned value as XCom "return_value") or failure, asks for its next task in
// the completion request (complete-and-lease-next) and stops gracefully when its context ends (e.g. on SIGTERM
// with signal.NotifyContext).
//
// It fences itself as the built-in worker does (src/worker/domain/lease-life.ts): once no heartbeat has been accepted
// for as long as the lease lives, measured on the server's clock, it cancels the handler's context a second before
// the lease would end (Task.StopReason: ErrLeaseExpired), stops heartbeating that attempt and reports it
// "cancelled: lease_expired" (retryable) at once, so that the attempt never runs beside its retry (a partition, an API
// outage longer than the lease). A handler that ignores its context runs on in its goroutine (Go cannot stop it), but
// its result is discarded.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"weft.dev/client/weftapi"
)

// Why a task's context ended (in the error reported for the attempt).
var (
	ErrLeaseLost        = errors.New("lease_lost")
	ErrLeaseExpired     = errors.New("lease_expired")
	ErrCancelRequested  = errors.New("cancel_requested")
	ErrShutdown         = errors.New("shutdown")
	ErrExecutionTimeout = errors.New("execution_timeout")
)

// Task is what a handler gets.
type Task struct {
	Lease    weftapi.Lease
	mu       sync.Mutex
	lines    []interface{}
	xcom     map[string]interface{}
	follow   []string   // a branch task's choice (Follow), nil when it named none
	flushing sync.Mutex // one log request at a time, so lines stay in order
	stopper  *stopper
}

// StopReason says why the handler's context ended: ErrLeaseLost, ErrLeaseExpired, ErrCancelRequested or nil (the
// execution deadline or shutdown: ctx.Err() tells which). Nil while the task may go on.
func (t *Task) StopReason() error {
	if t.stopper == nil {
		return nil
	}
	return t.stopper.err()
}

// MapIndex is this instance's position among its mapped task's instances (0…n−1); −1 for an unmapped task
// (docs/dynamic-pipelines.md). The same as Lease.MapIndex.
func (t *Task) MapIndex() int {
	return int(t.Lease.MapIndex)
}

// Expand is a mapped instance's values of its task's `expand` keys (empty for an unmapped task).
func (t *Task) Expand() map[string]interface{} {
	if t.Lease.Expand == nil {
		return map[string]interface{}{}
	}
	return *t.Lease.Expand
}

// Follow names a branch task's choice: the direct downstream task ids to follow, sent as followTaskIds when the
// attempt succeeds (otherwise a branch follows its return_value XCom).
func (t *Task) Follow(taskIds ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.follow = append([]string{}, taskIds...)
}

// Log appends a log line to the attempt (sent in batches).
func (t *Task) Log(format string, args ...interface{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, map[string]string{"line": fmt.Sprintf(format, args...), "stream": "stdout"})
}

// PushXcom publishes an XCom value besides the return value (only if the attempt succeeds).
func (t *Task) PushXcom(key string, value interface{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.xcom[key] = value
}

// takeLines takes up to 1,000 pending lines (one request's worth; the API takes at most 10,000).
func (t *Task) takeLines() []interface{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.lines)
	if n > 1000 {
		n = 1000
	}
	lines := t.lines[:n:n]
	t.lines = t.lines[n:]
	return lines
}

// putBack returns lines whose sending failed for a retryable reason to the front, to be sent first next time.
func (t *Task) putBack(lines []interface{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(lines, t.lines...)
}

// Handler runs one task. Its context ends when the task must stop (lease lost or expired, cancellation requested,
// execution deadline, shutdown). A non-nil result becomes XCom "return_value";
// an error fails the attempt (retried unless it is a *Failure with Retryable false).
type Handler func(ctx context.Context, task *Task) (interface{}, error)

// Failure lets a handler say whether a failed attempt may be retried.
type Failure struct {
	Message   string
	Retryable bool
}

func (f *Failure) Error() string { return f.Message }

// Worker leases tasks of the types it has handlers for.
type Worker struct {
	API         *weftapi.APIClient
	APIKey      string
	WorkerID    string
	Queues      []string
	Concurrency int
	// Long-poll wait per lease request (≤ 30 s).
	WaitSeconds int
	// On shutdown: how long running tasks may finish before their contexts are cancelled.
	ShutdownGrace time.Duration
	Logger        *log.Logger

	baseURL  string
	handlers map[string]Handler
	slots    chan struct{}
	wg       sync.WaitGroup
	// Closed a few seconds after the shutdown grace: attempts still reporting give up then.
	hardStop chan struct{}
}

// New returns a worker for the API at baseURL (apiKey may be empty when authentication is off).
func New(baseURL, apiKey string) *Worker {
	cfg := weftapi.NewConfiguration()
	cfg.Servers = weftapi.ServerConfigurations{{URL: baseURL}}
	cfg.HTTPClient = &http.Client{}
	host, _ := os.Hostname()
	return &Worker{
		API: weftapi.NewAPIClient(cfg), APIKey: apiKey, WorkerID: fmt.Sprintf("%s-%d", host, os.Getpid()),
		Queues: []string{"default"}, Concurrency: 1, WaitSeconds: 20, ShutdownGrace: 10 * time.Second,
		Logger: log.New(os.Stderr, "weft-worker ", log.LstdFlags), handlers: map[string]Handler{}, baseURL: baseURL,
	}
}

// RefusedError is what Run returns when the API refused the worker's key (401) or its right to lease from its
// queues (403), once running tasks finished: asking again would not make the key good. The message names the key by
// its first 12 characters (the prefix the API lists it under, never the secret) and says what to do.
type RefusedError struct {
	Status  int
	Message string
}

func (e *RefusedError) Error() string { return e.Message }

// refusal says which key, what the API said and what to do.
func (w *Worker) refusal(status int, err error) *RefusedError {
	said := fmt.Sprintf("%d: %s", status, serverMessage(err))
	key := "no API key"
	if w.APIKey != "" {
		prefix := w.APIKey
		if len(prefix) > 12 {
			prefix = prefix[:12]
		}
		key = "API key " + prefix + "…"
	}
	api := "the API at " + w.baseURL
	var msg string
	switch {
	case status == 403:
		msg = fmt.Sprintf("%s does not let %s lease from queue(s) %s (%s): give the worker a key with role worker whose queues include them (APIKey); stopping", api, key, strings.Join(w.Queues, ", "), said)
	case w.APIKey != "":
		msg = fmt.Sprintf("%s refused %s (%s): give the worker a valid key with role worker (APIKey; an admin creates one: POST /api/v1/apiKeys); stopping", api, key, said)
	default:
		msg = fmt.Sprintf("%s needs an API key (%s): give the worker a key with role worker (APIKey; an admin creates one: POST /api/v1/apiKeys); stopping", api, said)
	}
	return &RefusedError{Status: status, Message: msg}
}

// serverMessage is the API's own message from an error body, or the body as it came.
func serverMessage(err error) string {
	raw := body(err)
	var parsed struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(raw), &parsed) == nil && parsed.Message != "" {
		return parsed.Message
	}
	return raw
}

// connectionCause is "dial tcp 127.0.0.1:8080: connect: connection refused" out of the client's *url.Error.
func connectionCause(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}

// Handle registers the handler of a task type.
func (w *Worker) Handle(taskType string, h Handler) { w.handlers[taskType] = h }

func (w *Worker) authed(ctx context.Context) context.Context {
	if w.APIKey == "" {
		return ctx
	}
	return context.WithValue(ctx, weftapi.ContextAccessToken, w.APIKey)
}

func (w *Worker) taskTypes() []string {
	types := make([]string, 0, len(w.handlers))
	for t := range w.handlers {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// Run leases and runs tasks until ctx ends, then waits for running tasks (cancelling them after ShutdownGrace).
func (w *Worker) Run(ctx context.Context) error {
	if len(w.handlers) == 0 {
		return errors.New("register at least one handler before Run")
	}
	w.slots = make(chan struct{}, w.Concurrency)
	w.hardStop = make(chan struct{})
	// Tasks outlive ctx for the grace period; taskCtx ends after it.
	taskCtx, stopTasks := context.WithCancel(context.Background())
	defer stopTasks()
	backoff := time.Duration(0)
	var refused *RefusedError
	for ctx.Err() == nil {
		select { // wait for a free slot
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		free := 1
	more:
		for free < w.Concurrency {
			select {
			case w.slots <- struct{}{}:
				free++
			default:
				break more
			}
		}
		leases, date, res, err := w.lease(ctx, free)
		for i := len(leases); i < free; i++ {
			<-w.slots // give back what was not used
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if res != nil && (res.StatusCode == 401 || res.StatusCode == 403) {
				refused = w.refusal(res.StatusCode, err)
				w.Logger.Print(refused.Message)
				break
			}
			reason := err
			if res == nil {
				reason = fmt.Errorf("cannot reach the API at %s: %w", w.baseURL, connectionCause(err))
			}
			backoff = minDuration(maxDuration(backoff*2, 500*time.Millisecond), 10*time.Second)
			w.Logger.Printf("lease request failed (%v); retrying in %v", reason, backoff)
			sleep(ctx, backoff)
			continue
		}
		backoff = 0
		for _, l := range leases {
			w.start(ctx, taskCtx, l, date)
		}
	}
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.ShutdownGrace):
		stopTasks()
		// Stopped tasks report once more (retryable); what cannot be reported soon is left to the lease's expiry.
		stragglers := time.AfterFunc(stoppedReportTime, func() { close(w.hardStop) })
		<-done
		stragglers.Stop()
	}
	if refused != nil {
		return refused
	}
	return nil
}

// After the shutdown grace, how long stopped tasks may still try to report.
const stoppedReportTime = 5 * time.Second

func (w *Worker) request(capacity int32, wait float32) (int32, float32, []string, string) {
	host, _ := os.Hostname()
	return capacity, wait, w.taskTypes(), host
}

// lease returns the leases and the answer's Date header (what their life is measured from).
func (w *Worker) lease(ctx context.Context, capacity int) ([]weftapi.Lease, string, *http.Response, error) {
	// The server holds the request up to WaitSeconds: the client waits longer than that.
	reqCtx, cancel := context.WithTimeout(ctx, time.Duration(w.WaitSeconds+15)*time.Second)
	defer cancel()
	body := weftapi.NewLeaseTasksRequest(w.Queues)
	c, wait, types, host := w.request(int32(capacity), float32(w.WaitSeconds))
	body.Capacity, body.WaitSeconds, body.TaskTypes, body.Hostname = &c, &wait, &types, &host
	batch, res, err := w.API.LeasesApi.LeaseTasks(w.authed(reqCtx), w.WorkerID).LeaseTasksRequest(*body).Execute()
	return batch.Leases, dateOf(res), res, err
}

// start runs one leased task; it holds one slot, released when the task is reported.
func (w *Worker) start(loopCtx, taskCtx context.Context, l weftapi.Lease, date string) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		// The finished task's slot goes to the task that came back with its completion (`next` asks for one).
		if next, nextDate := w.execute(loopCtx, taskCtx, l, date); len(next) > 0 {
			w.start(loopCtx, taskCtx, next[0], nextDate)
			return
		}
		<-w.slots
	}()
}

// execute runs one attempt, then reports it. The heartbeat goes on until the report is settled; log lines and the
// completion are sent until the API accepts or refuses them (a 503 while its database is down is retried with
// backoff, however long it lasts), so an outage never makes a finished task run again. Only the heartbeat answering
// 409 (the lease is gone) or the end of the shutdown grace stops that.
//
// While the handler runs, the attempt is fenced: without an accepted heartbeat for as long as the lease lives
// (leaseLife), its context is cancelled with ErrLeaseExpired a second before the lease would end (fenceDelay), its
// heartbeat stops and it is reported failed and retryable without waiting for the handler.
func (w *Worker) execute(loopCtx, taskCtx context.Context, l weftapi.Lease, date string) ([]weftapi.Lease, string) {
	base, cancelBase := context.WithCancel(taskCtx)
	defer cancelBase()
	stopper := &stopper{cancel: cancelBase, gone: make(chan struct{}), expired: make(chan struct{})}
	task := &Task{Lease: l, xcom: map[string]interface{}{}, stopper: stopper}
	fence := &fence{expire: func() {
		w.Logger.Printf("%s try %d: no heartbeat accepted for as long as the lease lives (the API unreachable or unavailable, or this worker stalled): stopping the task before it can be leased again; reporting cancelled: lease_expired, whatever the handler returns now is discarded", l.TaskId, l.TryNumber)
		stopper.expire()
	}}
	fence.extend(leaseLife(l.LeaseExpiresAt, date))
	ctx := base
	if d, ok := l.GetExecutionDeadlineOk(); ok && d != nil {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(base, *d)
		defer stop()
	}
	beatDone := make(chan struct{})
	defer close(beatDone)
	go w.heartbeat(task, stopper, fence, beatDone)

	result := make(chan handlerResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				result <- handlerResult{nil, fmt.Errorf("handler panicked: %v", r)}
			}
		}()
		h, ok := w.handlers[l.TaskType]
		if !ok {
			result <- handlerResult{nil, fmt.Errorf("no handler for task type %q", l.TaskType)}
			return
		}
		v, err := h(ctx, task)
		result <- handlerResult{v, err}
	}()
	var outcome *weftapi.CompleteLeaseRequest
	select {
	case r := <-result:
		outcome = w.outcome(ctx, stopper, task, r.value, r.err)
	case <-ctx.Done(): // the handler ignores its context: report without waiting for it
		outcome = w.outcome(ctx, stopper, task, nil, ctx.Err())
	}
	fence.stop()
	if errors.Is(stopper.err(), ErrLeaseLost) {
		w.Logger.Printf("%s try %d: lease lost, result discarded", l.TaskId, l.TryNumber)
		return nil, ""
	}
	if sent, reason := w.untilSettled(stopper, l, "sending log lines", func() (settled, string) { return w.flush(task, true) }); sent == refused {
		w.Logger.Printf("%s try %d: log lines refused: %s", l.TaskId, l.TryNumber, reason)
	}
	return w.complete(loopCtx, stopper, l, outcome)
}

func (w *Worker) outcome(ctx context.Context, stopper *stopper, task *Task, value interface{}, err error) *weftapi.CompleteLeaseRequest {
	if ctx.Err() != nil {
		cause := stopper.err()
		if cause == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cause = ErrExecutionTimeout
		} else if cause == nil {
			cause = ErrShutdown
		}
		out := weftapi.NewCompleteLeaseRequest("failed")
		out.SetError("cancelled: " + cause.Error())
		out.SetRetryable(!errors.Is(cause, ErrCancelRequested))
		return out
	}
	if err != nil {
		out := weftapi.NewCompleteLeaseRequest("failed")
		out.SetError(err.Error())
		var f *Failure
		out.SetRetryable(!errors.As(err, &f) || f.Retryable)
		return out
	}
	out := weftapi.NewCompleteLeaseRequest("success")
	task.mu.Lock()
	if value != nil {
		task.xcom["return_value"] = value
	}
	if len(task.xcom) > 0 {
		out.SetXcom(task.xcom)
	}
	if task.follow != nil {
		out.SetFollowTaskIds(task.follow)
	}
	task.mu.Unlock()
	return out
}

// heartbeat extends the lease at the server's interval, and at least three times per lease period, until done or
// the attempt is fenced; every accepted heartbeat extends the fence too.
func (w *Worker) heartbeat(task *Task, stopper *stopper, fence *fence, done <-chan struct{}) {
	every := time.Duration(task.Lease.HeartbeatIntervalSec) * time.Second
	if ttl := time.Until(task.Lease.LeaseExpiresAt) / 3; ttl < every {
		every = ttl
	}
	every = maxDuration(every, 500*time.Millisecond)
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-done:
			return
		case <-stopper.expired: // fenced: this attempt is over, its lease is not extended any more
			return
		case <-ticker.C:
		}
		ctx, stop := context.WithTimeout(context.Background(), 2*every)
		hb, res, err := w.API.LeasesApi.HeartbeatLease(w.authed(ctx), task.Lease.LeaseId).Execute()
		stop()
		switch {
		case res != nil && (res.StatusCode == 409 || res.StatusCode == 404):
			stopper.stop(ErrLeaseLost)
			stopper.leaseGone()
			return
		case err != nil:
			if !failing {
				w.Logger.Printf("heartbeat failed: %v; retrying", err)
			}
			failing = true
		default:
			failing = false
			fence.extend(leaseLife(hb.LeaseExpiresAt, dateOf(res)))
			if hb.CancelRequested {
				stopper.stop(ErrCancelRequested)
			}
		}
		w.flush(task, false) // never waits for a send under way: that one takes these lines too
	}
}

// How one request ended: accepted, refused by the server (sending it again would not help), or worth retrying.
type settled int

const (
	accepted settled = iota
	refused
	retry
	stopped
)

// classify: a network error, a timeout, a 5xx (the API's database down), 408, 425 or 429 is worth retrying; another
// 4xx (409: the lease is gone) is the server's answer.
func classify(res *http.Response, err error) settled {
	if err == nil {
		return accepted
	}
	if res == nil || res.StatusCode >= 500 || res.StatusCode == 408 || res.StatusCode == 425 || res.StatusCode == 429 {
		return retry
	}
	return refused
}

// flush sends the pending log lines, batch by batch; a batch that fails for a retryable reason goes back to the front.
// Without wait, it leaves the lines to a send already under way.
func (w *Worker) flush(task *Task, wait bool) (settled, string) {
	if wait {
		task.flushing.Lock()
	} else if !task.flushing.TryLock() {
		return retry, "another send is under way"
	}
	defer task.flushing.Unlock()
	for {
		lines := task.takeLines()
		if len(lines) == 0 {
			return accepted, ""
		}
		ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := w.API.LeasesApi.AppendLeaseLogs(w.authed(ctx), task.Lease.LeaseId).AppendLeaseLogsRequest(*weftapi.NewAppendLeaseLogsRequest(lines)).Execute()
		stop()
		switch classify(res, err) {
		case retry:
			task.putBack(lines)
			return retry, err.Error()
		case refused:
			return refused, fmt.Sprintf("%v %s", err, body(err))
		}
	}
}

// untilSettled calls attempt with backoff while it says retry, until it is accepted or refused, or the lease is gone
// or the worker gives up at shutdown (stopped).
func (w *Worker) untilSettled(stopper *stopper, l weftapi.Lease, what string, attempt func() (settled, string)) (settled, string) {
	for n := 1; ; n++ {
		select {
		case <-stopper.gone:
			return stopped, ""
		case <-w.hardStop:
			return stopped, ""
		default:
		}
		sent, reason := attempt()
		if sent != retry {
			return sent, reason
		}
		if n == 1 {
			w.Logger.Printf("%s try %d: %s failed (%s); retrying until the API takes it", l.TaskId, l.TryNumber, what, reason)
		}
		select {
		case <-time.After(backoff(n)):
		case <-stopper.gone:
		case <-w.hardStop:
		}
	}
}

// backoff doubles from 250 ms up to 2 s, each wait between half and all of that (workers that failed together
// spread out).
func backoff(attempt int) time.Duration {
	ceiling := 2 * time.Second
	if attempt < 4 {
		ceiling = 250 * time.Millisecond << (attempt - 1)
	}
	return ceiling/2 + time.Duration(rand.Int63n(int64(ceiling/2)+1))
}

// complete reports the outcome; while the worker runs, it asks for the next task in the same request.
// It returns the leases that came back and the answer's Date header.
func (w *Worker) complete(loopCtx context.Context, stopper *stopper, l weftapi.Lease, out *weftapi.CompleteLeaseRequest) ([]weftapi.Lease, string) {
	if loopCtx.Err() == nil {
		next := weftapi.NewCompleteLeaseRequestNext()
		c, wait, types, host := w.request(1, 0)
		next.Queues, next.Capacity, next.WaitSeconds, next.TaskTypes, next.Hostname = &w.Queues, &c, &wait, &types, &host
		out.SetNext(*next)
	}
	var leases []weftapi.Lease
	var date string
	sent, reason := w.untilSettled(stopper, l, "sending the completion", func() (settled, string) {
		ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		result, res, err := w.API.LeasesApi.CompleteLease(w.authed(ctx), l.LeaseId).CompleteLeaseRequest(*out).Execute()
		switch classify(res, err) {
		case accepted:
			leases, date = result.GetLeases(), dateOf(res)
			return accepted, ""
		case refused:
			return refused, fmt.Sprintf("%v %s", err, body(err))
		}
		return retry, err.Error()
	})
	switch sent {
	case refused:
		w.Logger.Printf("%s try %d: completion refused: %s", l.TaskId, l.TryNumber, reason)
	case stopped:
		w.Logger.Printf("%s try %d: completion not sent (lease lost or shutting down)", l.TaskId, l.TryNumber)
	}
	return leases, date
}

type handlerResult struct {
	value interface{}
	err   error
}

// stopper cancels a task's context and remembers why (context.WithCancelCause needs Go 1.20; Debian 12 has 1.19);
// gone is closed when the heartbeat hears that the lease is gone (nothing is reported any more), expired when the
// attempt is fenced (the heartbeat stops).
type stopper struct {
	mu          sync.Mutex
	cause       error
	cancel      context.CancelFunc
	gone        chan struct{}
	goneOnce    sync.Once
	expired     chan struct{}
	expiredOnce sync.Once
}

func (s *stopper) leaseGone() { s.goneOnce.Do(func() { close(s.gone) }) }

func (s *stopper) expire() {
	s.expiredOnce.Do(func() { close(s.expired) })
	s.stop(ErrLeaseExpired)
}

func (s *stopper) stop(cause error) {
	s.mu.Lock()
	if s.cause == nil {
		s.cause = cause
	}
	s.mu.Unlock()
	s.cancel()
}

func (s *stopper) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// leaseLife is how much longer the server counts a lease as live, on the server's own clock (no skew between the
// worker's clock and the server's enters): leaseExpiresAt minus the Date header of the same answer, less a second for
// the header's resolution (it is truncated to the second). Not ok when the header is missing or not a date (a proxy
// that drops it): the worker cannot tell then, and does not fence. The built-in worker's rule
// (src/worker/domain/lease-life.ts).
func leaseLife(expiresAt time.Time, date string) (time.Duration, bool) {
	if expiresAt.IsZero() || date == "" {
		return 0, false
	}
	serverNow, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	return maxDuration(0, expiresAt.Sub(serverNow)-time.Second), true
}

// fenceDelay is when to stop an attempt whose lease lives `life` more unless a heartbeat extends it: a second before
// the end (half the life, for a lease shorter than two seconds), so that it is gone before the reaper can hand the
// task to another worker.
func fenceDelay(life time.Duration) time.Duration {
	return maxDuration(life/2, life-time.Second)
}

// fence is the attempt's own view of its lease: restarted by every answer that extends it (the lease, then each
// accepted heartbeat); when it runs out, expire is called once, unless stop came first.
type fence struct {
	mu      sync.Mutex
	timer   *time.Timer
	gen     int // a timer that fired as it was replaced finds a newer generation and does nothing
	stopped bool
	expire  func()
}

func (f *fence) extend(life time.Duration, ok bool) {
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.gen++
	gen := f.gen
	f.timer = time.AfterFunc(fenceDelay(life), func() {
		f.mu.Lock()
		if f.stopped || f.gen != gen {
			f.mu.Unlock()
			return
		}
		f.stopped = true
		f.mu.Unlock()
		f.expire()
	})
}

func (f *fence) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.timer != nil {
		f.timer.Stop()
	}
}

func dateOf(res *http.Response) string {
	if res == nil {
		return ""
	}
	return res.Header.Get("Date")
}

func body(err error) string {
	var e weftapi.GenericOpenAPIError
	if errors.As(err, &e) {
		return string(e.Body())
	}
	return ""
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
