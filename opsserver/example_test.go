package opsserver_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/reload"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// How a daemon wires the ops endpoint, the metrics and hot reload
// (compiled, not run).
func Example_wiring() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := sqlite.Open("wirewatch.db")
	if err != nil {
		panic(err)
	}
	defer st.Close()

	m := metrics.New()
	m.SetBuildInfo("v1.0.0")
	m.SetRules([]string{"storms", "elections"})
	m.SetFeeds(2)
	m.ConfigLoaded(time.Now())
	m.WatchFeeds(st.Feeds, nil)

	srv := opsserver.New(opsserver.Options{
		Addr: "127.0.0.1:9090", Metrics: m, Source: st,
		Ready: opsserver.StoreReady(st, "replica-1"), Version: "v1.0.0",
	})
	srv.SetConfig(opsserver.ConfigInfo{Path: "wirewatch.toml", LoadedAt: time.Now(), Rules: 2,
		Feeds: map[string]string{"wire": "The Wire"}})
	if err := srv.Start(ctx); err != nil {
		panic(err)
	}

	go reload.Watch(ctx, "wirewatch.toml", reload.Options{}, func() {
		// re-read and validate; on success swap and:
		m.Reload(true, time.Now())
		srv.SetConfig(opsserver.ConfigInfo{LoadedAt: time.Now()})
		// on failure: m.Reload(false, now); srv.ReloadFailed(err, now)
	})

	<-ctx.Done() // SIGTERM
	srv.SetDraining()
	// ... wait for the monitor and notifier to stop ...
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		slog.Error("ops endpoint shutdown", "err", err)
	}
}
