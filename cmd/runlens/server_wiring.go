package main

import (
	"net/http"

	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/webui"
)

// serverUI is the web UI the server mounts under "/", behind its auth.
func (a *app) serverUI(st store.Store, opts server.Options) http.Handler {
	return webui.New(st, webui.Options{Policy: opts.Policy, Version: version, Logger: opts.Log})
}
