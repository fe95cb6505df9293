// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/* The node agent's continuous tracer: program executions and file opens,
 * attributed to the cgroup (v2) of the task that made them.
 *
 * An open is reported when the system call returns, with its result: the
 * entry stashes the arguments per thread and the exit reads the path,
 * so that failed opens (the dynamic linker's and interpreters' probing of
 * search paths) can be left out in the kernel.
 *
 * Each event is built in a per-CPU scratch buffer (the path may be up to
 * PATH_MAX bytes) and copied into the ring buffer with only the bytes the
 * path uses. The reader takes what the ring holds on a timer and is never
 * woken: a wake-up per event would cost the traced task and the reader
 * more than the event itself. When the ring buffer is full the event is
 * lost; the loss is counted per cgroup in the drops map, since the
 * ring-buffer reader has no loss counter of its own. */
#include "vmlinux.h"
#include "helpers.h"

#define PATH_MAX 4096
#define TASK_COMM_LEN 16

/* Event kinds, mirrored in Go. */
#define KIND_EXEC 1
#define KIND_OPENAT 2
#define KIND_OPENAT2 3
#define KIND_OPEN 4

/* config[0] bits. */
#define CONFIG_WATCH_ALL 1
#define CONFIG_FAILED_OPENS 2

struct event {
	__u64 ts;        /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u64 cgroup_id; /* bpf_get_current_cgroup_id */
	__u64 flags;     /* open flags */
	__s64 ret;       /* open result: fd, or -errno */
	__u32 pid;       /* tgid, in the initial pid namespace */
	__u32 tid;
	__u32 kind;
	__s32 dirfd;     /* openat/openat2 dirfd; -100 is AT_FDCWD */
	__u32 path_len;  /* bytes of path used, with its NUL; 0 if unreadable */
	__u32 _pad;
	char comm[TASK_COMM_LEN];
	char path[PATH_MAX];
};

#define EVENT_HEADER_SIZE (sizeof(struct event) - PATH_MAX)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* resized from Go before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* Lost events per cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} drops SEC(".maps");

/* Cgroup ids to trace (value unused) unless CONFIG_WATCH_ALL is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

/* An open between its entry and its exit. */
struct pending {
	__u64 path;
	__u64 flags;
	__s32 dirfd;
	__u32 kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending);
} inflight SEC(".maps");

static __always_inline __u32 config_bits(void)
{
	__u32 zero = 0;
	__u32 *cfg = bpf_map_lookup_elem(&config, &zero);

	return cfg ? *cfg : 0;
}

/* Watched cgroup subtrees (kubepods.slice and the like): a task is traced
 * when its cgroup's ancestor at one of the levels in tree_levels is in
 * the trees map, so a container started later is traced from its first
 * event, before anyone could add its own cgroup. */
#define MAX_TREE_LEVEL 16

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} trees SEC(".maps");

/* Bit i set: some watched tree's root is at cgroup level i. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tree_levels SEC(".maps");

static __always_inline int in_tree(void)
{
	__u32 zero = 0;
	__u32 *lv = bpf_map_lookup_elem(&tree_levels, &zero);
	__u32 levels = lv ? *lv : 0;

	if (!levels)
		return 0;
	for (int i = 0; i < MAX_TREE_LEVEL; i++) {
		__u64 anc;

		if (!(levels & (1u << i)))
			continue;
		anc = bpf_get_current_ancestor_cgroup_id(i);
		if (anc && bpf_map_lookup_elem(&trees, &anc))
			return 1;
	}
	return 0;
}

static __always_inline int traced(__u64 cgid)
{
	if (config_bits() & CONFIG_WATCH_ALL)
		return 1;
	if (bpf_map_lookup_elem(&watched, &cgid))
		return 1;
	return in_tree();
}

/* All lost events, whatever their cgroup: counted even when the drops map
 * is full, so that no loss goes unseen. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops_total SEC(".maps");

static __always_inline void count_drop(__u64 cgid)
{
	__u32 zero = 0;
	__u64 one = 1;
	__u64 *n = bpf_map_lookup_elem(&drops_total, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	n = bpf_map_lookup_elem(&drops, &cgid);

	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	if (bpf_map_update_elem(&drops, &cgid, &one, BPF_NOEXIST) == 0)
		return;
	/* Another CPU created it first (or the map is full). */
	n = bpf_map_lookup_elem(&drops, &cgid);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* start returns the scratch event with its header filled, or 0 when the
 * task's cgroup is not traced. */
static __always_inline struct event *start(__u32 kind, __u64 cgid)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &zero);
	__u64 id;

	if (!e)
		return 0;
	id = bpf_get_current_pid_tgid();
	e->ts = bpf_ktime_get_ns();
	e->cgroup_id = cgid;
	e->flags = 0;
	e->ret = 0;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->kind = kind;
	e->dirfd = 0;
	e->path_len = 0;
	e->_pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline void submit(struct event *e, long n)
{
	__u64 size;

	if (n < 0)
		n = 0;
	if (n > PATH_MAX)
		n = PATH_MAX;
	e->path_len = n;
	size = EVENT_HEADER_SIZE + (__u32)n;
	/* The reader polls the ring on a timer; it is never woken. */
	if (bpf_ringbuf_output(&events, e, size, BPF_RB_NO_WAKEUP) != 0)
		count_drop(e->cgroup_id);
}

SEC("tracepoint/sched/sched_process_exec")
int trace_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	struct event *e;
	__u32 off;
	long n;

	if (!traced(cgid))
		return 0;
	e = start(KIND_EXEC, cgid);
	if (!e)
		return 0;
	/* __data_loc: low 16 bits offset from the record start, high 16 length. */
	off = ctx->__data_loc_filename & 0xFFFF;
	n = bpf_probe_read_kernel_str(e->path, PATH_MAX, (void *)ctx + off);
	submit(e, n);
	return 0;
}

/* open_enter stashes an open's arguments until it returns. */
static __always_inline int open_enter(__u32 kind, const char *path, __s32 dirfd, __u64 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending p = {
		.path = (__u64)path,
		.flags = flags,
		.dirfd = dirfd,
		.kind = kind,
	};

	if (!traced(bpf_get_current_cgroup_id()))
		return 0;
	bpf_map_update_elem(&inflight, &id, &p, BPF_ANY);
	return 0;
}

/* The exit of openat, openat2 and open: reports the stashed open with its
 * result; the path is read from the caller's memory now. */
SEC("tracepoint/syscalls/sys_exit_openat")
int trace_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 cgid = bpf_get_current_cgroup_id();
	struct pending *p = bpf_map_lookup_elem(&inflight, &id);
	struct pending open;
	struct event *e;
	long n;

	if (!p)
		return 0;
	open = *p;
	bpf_map_delete_elem(&inflight, &id);
	if (ctx->ret < 0 && !(config_bits() & CONFIG_FAILED_OPENS))
		return 0;
	e = start(open.kind, cgid);
	if (!e)
		return 0;
	e->dirfd = open.dirfd;
	e->flags = open.flags;
	e->ret = ctx->ret;
	n = bpf_probe_read_user_str(e->path, PATH_MAX, (const char *)open.path);
	submit(e, n);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(KIND_OPENAT, (const char *)ctx->args[1], (__s32)ctx->args[0], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int trace_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};
	__u64 flags = 0;

	/* args[2] is the caller's struct open_how; read only its flags. */
	if (bpf_probe_read_user(&how.flags, sizeof(how.flags), (void *)ctx->args[2]) == 0)
		flags = how.flags;
	return open_enter(KIND_OPENAT2, (const char *)ctx->args[1], (__s32)ctx->args[0], flags);
}

/* open(2) exists on x86-64 (not on arm64); attached only where it does. */
SEC("tracepoint/syscalls/sys_enter_open")
int trace_open_legacy(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(KIND_OPEN, (const char *)ctx->args[0], -100, ctx->args[1]);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
