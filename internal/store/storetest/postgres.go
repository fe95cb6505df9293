package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	// The PostgreSQL driver, for the admin connection.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// pgServer is the test binary's throwaway PostgreSQL server.
type pgServer struct {
	dir  string // data and socket, removed by Stop
	sock string
	cmd  *exec.Cmd
	done chan struct{}
}

var (
	pgOnce sync.Once
	pg     *pgServer
	pgErr  error
	pgSeq  atomic.Int64
)

// pgBin finds a PostgreSQL server program.
func pgBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(ms) == 0 {
		return "", fmt.Errorf("%s not found (install the postgresql package)", name)
	}
	return ms[len(ms)-1], nil
}

// credential runs the server as the postgres user when the test runs as
// root (PostgreSQL refuses root).
func credential() (*syscall.SysProcAttr, int, int, error) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if os.Geteuid() != 0 {
		return attr, -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("running as root and no postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return attr, uid, gid, nil
}

// sweepStale removes the directories of earlier test servers whose
// process is gone (a test binary killed before it could stop its
// server leaves one behind): those with a postmaster.pid naming no live
// process, or without one and untouched for ten minutes.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "runlens-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid"))
		if err != nil {
			if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
				os.RemoveAll(d)
			}
			continue
		}
		line, _, _ := strings.Cut(string(b), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err == nil && pid > 0 && syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}

// startPostgres runs initdb and the server on a Unix socket in a
// temporary directory.
func startPostgres() (*pgServer, error) {
	sweepStale()
	initdb, err := pgBin("initdb")
	if err != nil {
		return nil, err
	}
	postgres, err := pgBin("postgres")
	if err != nil {
		return nil, err
	}
	attr, uid, gid, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "runlens-pg-")
	if err != nil {
		return nil, err
	}
	s := &pgServer{dir: dir, sock: filepath.Join(dir, "sock"), done: make(chan struct{})}
	data := filepath.Join(dir, "data")
	for _, d := range []string{data, s.sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if uid >= 0 {
		for _, d := range []string{dir, data, s.sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	cmd.SysProcAttr = attr
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	started := make(chan error, 1)
	go func() {
		// The server dies with this thread (Pdeathsig): keep it locked
		// and alive for as long as the server runs.
		runtime.LockOSThread()
		s.cmd = exec.Command(postgres, "-D", data, "-k", s.sock, "-c", "listen_addresses=", "-c", "fsync=off",
			"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
		s.cmd.SysProcAttr = attr
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		started <- nil
		s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.wait(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// dsn names database db on the server.
func (s *pgServer) dsn(db string) string {
	return "postgres:///" + db + "?host=" + s.sock + "&user=postgres&sslmode=disable"
}

// wait waits until the server accepts connections.
func (s *pgServer) wait() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", s.dsn("postgres"))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return errors.New("postgres exited at start")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not start: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops the server (by its PID) and removes its directory.
func (s *pgServer) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	os.RemoveAll(s.dir)
}

// PostgresDSN creates a fresh database on the test binary's PostgreSQL
// server (starting it at first use), dropped at the end of the test.
func PostgresDSN(t testing.TB) (string, error) {
	pgOnce.Do(func() { pg, pgErr = startPostgres() })
	if pgErr != nil {
		return "", pgErr
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), pgSeq.Add(1))
	admin, err := sql.Open("pgx", pg.dsn("postgres"))
	if err != nil {
		return "", err
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", fmt.Errorf("create database: %w", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return pg.dsn(name), nil
}

// Main runs a package's tests (call it from TestMain) and then stops the
// PostgreSQL server if one was started.
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	return code
}
