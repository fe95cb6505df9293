package trace

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go@v0.22.0 -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel,bpfeb -type event tracer bpf/tracer.c -- -I./bpf
