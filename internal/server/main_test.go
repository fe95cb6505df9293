package server

import (
	"os"
	"testing"

	"github.com/runlens/runlens/internal/store/storetest"
)

// TestMain stops the test PostgreSQL server after the tests.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
