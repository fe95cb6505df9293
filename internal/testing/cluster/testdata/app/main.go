// Command app is the workload binary of the e2e images: a static Go program that
// answers HTTP on :8080 until it is stopped, or exits at once with -once (for Jobs
// and init containers); -hold FILE keeps a file of the image open while it serves,
// as a program using a library would (the node agent's tests). It has no
// dependencies so the image is one small layer.
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
	hold := flag.String("hold", "", "keep this file open while serving")
	flag.Parse()
	if *hold != "" {
		f, err := os.Open(*hold)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
	}
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
