// Command app is the workload binary of the e2e images: a static Go program that
// answers HTTP on :8080 until it is stopped, or exits at once with -once (for Jobs
// and init containers). It has no dependencies so the image is one small layer.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
)

func main() {
	once := flag.Bool("once", false, "print a line and exit")
	addr := flag.String("listen", ":8080", "address to serve on")
	flag.Parse()
	if *once {
		fmt.Println("runlens e2e app: done")
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
