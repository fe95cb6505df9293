package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "runlens test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, keyFile
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// `runlens server --tls-cert --tls-key` serves HTTPS only, and the
// login cookie it sets is Secure.
func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"server", "--listen", addr, "--data-dir", dir, "--tls-cert", cert, "--tls-key", key}, strings.NewReader(""), &strings.Builder{}, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "runlens server listening") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	secret := regexp.MustCompile(`rl_[A-Za-z0-9_-]{43}`).FindString(stderr.String())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("https://" + addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("https readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = client.PostForm("https://"+addr+"/login", map[string][]string{"token": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := resp.Cookies()
	if len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("login cookie over TLS: %+v", cs)
	}
	// The web UI is mounted: a browser without the cookie is sent to the
	// login page, one with it gets the overview.
	resp, err = client.Get("https://" + addr + "/")
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("UI without a token: %v %v", err, resp)
	}
	for _, path := range []string{"/login", "/"} {
		req, _ := http.NewRequest("GET", "https://"+addr+path, nil)
		req.AddCookie(cs[0])
		resp, err = client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("UI %s with the cookie: %v %v", path, err, resp)
		} else {
			resp.Body.Close()
		}
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Errorf("plain HTTP is answered")
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("server: exit %d: %s", code, stderr.String())
	}
}
