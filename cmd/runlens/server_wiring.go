package main

import (
	"net/http"

	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
)

// serverRematch is the re-match the server runs when its vulnerability
// database changes; nil leaves the database watcher off.
func serverRematch() server.RematchFunc { return nil }

// serverUI is the web UI the server mounts under "/"; nil serves the API
// alone.
func (a *app) serverUI(_ store.Store, _ server.Options) http.Handler { return nil }
