// Package worker runs Weft tasks on top of the generated client (package weftapi).
//
// Register a handler per task type, then Run. The worker long-polls for tasks (the HTTP timeout is above
// WaitSeconds), heartbeats in the background, cancels a handler's context when its lease is lost or cancellation
// is requested, reports success (the returned value as XCom "return_value") or failure, asks for its next task in
// the completion request (complete-and-lease-next) and stops gracefully when its context ends (e.g. on SIGTERM
// with signal.NotifyContext).
package worker

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"weft.dev/client/weftapi"
)

// Why a task's context ended (in the error reported for the attempt).
var (
	ErrLeaseLost        = errors.New("lease_lost")
	ErrCancelRequested  = errors.New("cancel_requested")
	ErrShutdown         = errors.New("shutdown")
	ErrExecutionTimeout = errors.New("execution_timeout")
)

// Task is what a handler gets.
type Task struct {
	Lease weftapi.Lease
	mu    sync.Mutex
	lines []interface{}
	xcom  map[string]interface{}
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

func (t *Task) takeLines() []interface{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	t.lines = nil
	return lines
}

// Handler runs one task. Its context ends when the task must stop (lease lost, cancellation requested, execution
// deadline, shutdown). A non-nil result becomes XCom "return_value";
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

	handlers map[string]Handler
	slots    chan struct{}
	wg       sync.WaitGroup
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
		Logger: log.New(os.Stderr, "weft-worker ", log.LstdFlags), handlers: map[string]Handler{},
	}
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
	// Tasks outlive ctx for the grace period; taskCtx ends after it.
	taskCtx, stopTasks := context.WithCancel(context.Background())
	defer stopTasks()
	backoff := time.Duration(0)
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
		leases, err := w.lease(ctx, free)
		for i := len(leases); i < free; i++ {
			<-w.slots // give back what was not used
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			backoff = minDuration(maxDuration(backoff*2, 500*time.Millisecond), 10*time.Second)
			w.Logger.Printf("lease request failed (%v); retrying in %v", err, backoff)
			sleep(ctx, backoff)
			continue
		}
		backoff = 0
		for _, l := range leases {
			w.start(ctx, taskCtx, l)
		}
	}
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.ShutdownGrace):
		stopTasks()
		<-done
	}
	return nil
}

func (w *Worker) request(capacity int32, wait float32) (int32, float32, []string, string) {
	host, _ := os.Hostname()
	return capacity, wait, w.taskTypes(), host
}

func (w *Worker) lease(ctx context.Context, capacity int) ([]weftapi.Lease, error) {
	// The server holds the request up to WaitSeconds: the client waits longer than that.
	reqCtx, cancel := context.WithTimeout(ctx, time.Duration(w.WaitSeconds+15)*time.Second)
	defer cancel()
	body := weftapi.NewLeaseTasksRequest(w.Queues)
	c, wait, types, host := w.request(int32(capacity), float32(w.WaitSeconds))
	body.Capacity, body.WaitSeconds, body.TaskTypes, body.Hostname = &c, &wait, &types, &host
	batch, _, err := w.API.LeasesApi.LeaseTasks(w.authed(reqCtx), w.WorkerID).LeaseTasksRequest(*body).Execute()
	return batch.Leases, err
}

// start runs one leased task; it holds one slot, released when the task is reported.
func (w *Worker) start(loopCtx, taskCtx context.Context, l weftapi.Lease) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		// The finished task's slot goes to the task that came back with its completion (`next` asks for one).
		if next := w.execute(loopCtx, taskCtx, l); len(next) > 0 {
			w.start(loopCtx, taskCtx, next[0])
			return
		}
		<-w.slots
	}()
}

func (w *Worker) execute(loopCtx, taskCtx context.Context, l weftapi.Lease) []weftapi.Lease {
	task := &Task{Lease: l, xcom: map[string]interface{}{}}
	base, cancelBase := context.WithCancel(taskCtx)
	defer cancelBase()
	stopper := &stopper{cancel: cancelBase}
	ctx := base
	if d, ok := l.GetExecutionDeadlineOk(); ok && d != nil {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(base, *d)
		defer stop()
	}
	beatDone := make(chan struct{})
	go w.heartbeat(task, stopper, beatDone)

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
	close(beatDone)
	w.flush(task)
	if errors.Is(stopper.err(), ErrLeaseLost) {
		w.Logger.Printf("%s try %d: lease lost, result discarded", l.TaskId, l.TryNumber)
		return nil
	}
	return w.complete(loopCtx, l, outcome)
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
	task.mu.Unlock()
	return out
}

// heartbeat extends the lease at the server's interval, and at least three times per lease period.
func (w *Worker) heartbeat(task *Task, stopper *stopper, done <-chan struct{}) {
	every := time.Duration(task.Lease.HeartbeatIntervalSec) * time.Second
	if ttl := time.Until(task.Lease.LeaseExpiresAt) / 3; ttl < every {
		every = ttl
	}
	every = maxDuration(every, 500*time.Millisecond)
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
		}
		ctx, stop := context.WithTimeout(context.Background(), 2*every)
		hb, res, err := w.API.LeasesApi.HeartbeatLease(w.authed(ctx), task.Lease.LeaseId).Execute()
		stop()
		switch {
		case res != nil && (res.StatusCode == 409 || res.StatusCode == 404):
			stopper.stop(ErrLeaseLost)
			return
		case err != nil:
			w.Logger.Printf("heartbeat failed: %v", err)
		case hb.CancelRequested:
			stopper.stop(ErrCancelRequested)
		}
		w.flush(task)
	}
}

func (w *Worker) flush(task *Task) {
	lines := task.takeLines()
	if len(lines) == 0 {
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if _, err := w.API.LeasesApi.AppendLeaseLogs(w.authed(ctx), task.Lease.LeaseId).AppendLeaseLogsRequest(*weftapi.NewAppendLeaseLogsRequest(lines)).Execute(); err != nil {
		w.Logger.Printf("sending logs failed: %v", err)
	}
}

// complete reports the outcome; while the worker runs, it asks for the next task in the same request.
func (w *Worker) complete(loopCtx context.Context, l weftapi.Lease, outcome *weftapi.CompleteLeaseRequest) []weftapi.Lease {
	if loopCtx.Err() == nil {
		next := weftapi.NewCompleteLeaseRequestNext()
		c, wait, types, host := w.request(1, 0)
		next.Queues, next.Capacity, next.WaitSeconds, next.TaskTypes, next.Hostname = &w.Queues, &c, &wait, &types, &host
		outcome.SetNext(*next)
	}
	for attempt := 1; attempt <= 5; attempt++ {
		ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		result, res, err := w.API.LeasesApi.CompleteLease(w.authed(ctx), l.LeaseId).CompleteLeaseRequest(*outcome).Execute()
		stop()
		if err == nil {
			return result.GetLeases()
		}
		if res != nil && res.StatusCode < 500 {
			w.Logger.Printf("%s try %d: completion refused: %v %s", l.TaskId, l.TryNumber, err, body(err))
			return nil
		}
		// Network trouble or 5xx: the same payload again is idempotent.
		time.Sleep(time.Duration(attempt) * time.Second)
	}
	w.Logger.Printf("%s: completion failed after 5 attempts", l.TaskId)
	return nil
}

type handlerResult struct {
	value interface{}
	err   error
}

// stopper cancels a task's context and remembers why (context.WithCancelCause needs Go 1.20; Debian 12 has 1.19).
type stopper struct {
	mu     sync.Mutex
	cause  error
	cancel context.CancelFunc
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
