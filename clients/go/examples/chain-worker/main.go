// Example worker: runs tasks of type go_step. Its result extends the "chain" it finds in its upstream tasks'
// XCom (the TypeScript and Python examples do the same for ts_step and py_step; see clients/README.md).
//
//	GOPROXY=off go build -o chain-worker ./examples/chain-worker
//	WEFT_API_URL=http://127.0.0.1:8080 WEFT_API_KEY=… ./chain-worker
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"weft.dev/client/worker"
)

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func step(ctx context.Context, task *worker.Task) (interface{}, error) {
	args, _ := task.Lease.Task["args"].(map[string]interface{})
	if hang, _ := args["hangOnFirstTry"].(bool); hang && task.Lease.TryNumber == 1 {
		task.Log("first try: hanging until stopped")
		<-ctx.Done()
		// Why it had to stop: worker.ErrLeaseLost, ErrLeaseExpired, ErrCancelRequested, or nil (deadline, shutdown).
		log.Printf("first try: stopped (%v)", task.StopReason())
		return nil, ctx.Err()
	}
	// Tests hold a task until a moment of their choosing (a file appears), and may ask for no log line (silent).
	if file, _ := args["holdUntilFile"].(string); file != "" {
		for {
			if _, err := os.Stat(file); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	var chain []interface{}
	total := 0.0
	for _, xcom := range task.Lease.UpstreamXcom {
		rv, _ := xcom["return_value"].(map[string]interface{})
		if c, ok := rv["chain"].([]interface{}); ok && len(c) > len(chain) {
			chain, total = c, toFloat(rv["total"])
		}
	}
	add := 1.0
	if v, ok := args["add"]; ok {
		add = toFloat(v)
	}
	total += add
	if silent, _ := args["silent"].(bool); !silent {
		task.Log("try %d: total %v", task.Lease.TryNumber, total)
	}
	task.PushXcom("greeting", "hello from Go")
	return map[string]interface{}{"language": "go", "chain": append(chain, "go"), "total": total}, nil
}

func toFloat(v interface{}) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		f, _ := strconv.ParseFloat(n, 64)
		return f
	}
	return 0
}

func main() {
	w := worker.New(env("WEFT_API_URL", "http://127.0.0.1:8080"), os.Getenv("WEFT_API_KEY"))
	if id := os.Getenv("WEFT_WORKER_ID"); id != "" {
		w.WorkerID = id
	}
	w.Queues = strings.Split(env("WEFT_WORKER_QUEUES", "default"), ",")
	w.WaitSeconds, _ = strconv.Atoi(env("WEFT_WAIT_SECONDS", "20"))
	w.Concurrency, _ = strconv.Atoi(env("WEFT_WORKER_CONCURRENCY", "1"))
	w.Handle("go_step", step)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := w.Run(ctx); err != nil {
		var refused *worker.RefusedError
		if errors.As(err, &refused) {
			os.Exit(1) // the worker has said which key and what to do
		}
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "worker stopped")
}
