package main

import (
	"net/http"

	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
)

// serverUI is the web UI the server mounts under "/"; nil serves the API
// alone.
func (a *app) serverUI(_ store.Store, _ server.Options) http.Handler { return nil }
