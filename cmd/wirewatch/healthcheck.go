package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/opsserver"
)

// cmdHealthcheck probes the running daemon's /healthz, for container
// HEALTHCHECKs (the image has no curl).
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	l, err := loadValid(*path, stderr)
	if err != nil {
		return err
	}
	if strings.TrimSpace(l.cfg.HTTP.Listen) == "" {
		return errors.New("[http] listen is not set: there is no endpoint to probe")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := opsserver.Probe(ctx, l.cfg.HTTP.Listen); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
