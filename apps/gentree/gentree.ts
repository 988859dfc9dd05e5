// gen-tree: a deterministic, kernel-like C source tree for the toy toolchain
// (docs/toolchain.md's C subset), and the checksum its program must print.
//
//   include/linux/{types,compiler,autoconf,kernel,list}.h   shared headers
//   include/linux/<subsystem>.h   structs, enums, constants, prototypes
//   init/main.c        calls every file's entry function, prints a checksum
//   lib/print.c        print_u32() through __syscall(4, ...) (write)
//   kernel/ mm/ fs/ drivers/{char,block,net}/ lib/ net/ ipc/   the files
//   Makefile           CC, CFLAGS, OBJS, %.o: %.c, the link, header deps
//
// Every function is built as a tree (cast.ts) that is printed as C and run
// here with C's 32-bit semantics, so the expected checksum is exact. The
// same seed gives the same bytes; each file's contents depend only on the
// seed and its own name (and the shared headers), not on how many files
// there are.

import { Rng } from "./rng.ts";
import {
  type Arg, type Elt, type Expr, type Field, type Fn, type MacroDef, Program, type Stmt, type StructDef,
  type Ty, type Value, cExpr, cFunction, cStruct, typeOf,
} from "./cast.ts";

export interface GenOptions {
  /** Number of .c files in the tree, init/main.c and lib/print.c included (at least 3). */
  files: number;
  seed: number;
  /**
   * About how many lines a file is once its headers are included (cc1's
   * preprocessed input): kernel files are 10-40 k (workloads.md section 4).
   * The subsystem headers are sized for it. Default DEFAULT_HEADER_LINES.
   */
  headerLines?: number;
}

/** The default preprocessed size of a file, in lines (the low end of a kernel file's). */
export const DEFAULT_HEADER_LINES = 10000;

export interface GeneratedTree {
  /** Every file, sorted by path. */
  files: { path: string; text: string }[];
  /** Object files the Makefile builds, in link order. */
  objects: string[];
  /** The program's name (in the tree's root) and what it prints. */
  program: string;
  expectedChecksum: number;
  expectedOutput: string;
  /** Statements the generator's run of the program executed (how much work the program does). */
  statements: number;
}

// ---- the shape of the tree ---------------------------------------------------------------------

interface Subsys {
  dir: string;
  header: string;
  prefix: string;
  weight: number;
  names: string[];
  structs: string[];
}

const SUBSYSTEMS: Subsys[] = [
  {
    dir: "kernel", header: "sched", prefix: "SCHED", weight: 22,
    names: ["sched", "fork", "exit", "signal", "sys", "time", "timer", "softirq", "workqueue", "pid", "cred", "capability",
      "panic", "printk", "module", "kthread", "mutex", "rwsem", "spinlock", "params", "resource", "sysctl", "user",
      "groups", "notifier", "itimer", "posix_timers", "hrtimer", "rcupdate", "exec_domain", "futex", "ptrace", "kmod",
      "irq_manage", "audit", "cpuset", "profile", "rtmutex", "srcu", "wait"],
    structs: ["task_struct", "sched_entity", "rq", "signal_struct", "timer_list", "pid_link"],
  },
  {
    dir: "mm", header: "mm", prefix: "MM", weight: 15,
    names: ["slab", "page_alloc", "vmscan", "memory", "mmap", "mprotect", "mremap", "filemap", "swap", "shmem", "rmap",
      "highmem", "bootmem", "madvise", "mlock", "msync", "oom_kill", "page_writeback", "readahead", "truncate",
      "vmalloc", "mempool", "swapfile", "swap_state", "fremap", "mincore", "util", "sparse", "mmzone", "allocpercpu"],
    structs: ["page", "vm_area_struct", "mm_struct", "zone", "kmem_cache", "free_area"],
  },
  {
    dir: "fs", header: "fs", prefix: "FS", weight: 18,
    names: ["open", "read_write", "namei", "inode", "dcache", "file_table", "super", "exec", "pipe", "stat", "ioctl",
      "select", "fcntl", "buffer", "bio", "block_dev", "char_dev", "locks", "mpage", "direct_io", "attr", "namespace",
      "seq_file", "libfs", "fs_writeback", "dnotify", "file", "filesystems", "xattr", "readdir", "aio", "eventpoll"],
    structs: ["inode", "dentry", "file", "super_block", "address_space", "buffer_head"],
  },
  {
    dir: "drivers/char", header: "tty", prefix: "TTY", weight: 8,
    names: ["mem", "random", "tty_io", "n_tty", "vt", "keyboard", "serial_core", "pty", "misc", "sysrq", "vc_screen",
      "consolemap", "selection", "tty_ioctl", "rtc", "nvram"],
    structs: ["tty_struct", "tty_driver", "vc_data", "uart_port"],
  },
  {
    dir: "drivers/block", header: "blkdev", prefix: "BLK", weight: 7,
    names: ["ll_rw_blk", "loop", "floppy", "genhd", "elevator", "noop_iosched", "deadline_iosched", "as_iosched",
      "cfq_iosched", "ioctl", "scsi_ioctl", "brd", "nbd", "cpqarray"],
    structs: ["request", "request_queue", "gendisk", "hd_struct"],
  },
  {
    dir: "drivers/net", header: "netdevice", prefix: "NETDEV", weight: 8,
    names: ["loopback", "e1000_main", "e1000_hw", "rtl8139", "ne2k_pci", "tg3", "b44", "dummy", "tun", "mii",
      "pcnet32", "via_rhine", "sis900", "natsemi", "eepro100", "tulip_core"],
    structs: ["net_device", "net_device_stats", "napi_struct", "ethhdr"],
  },
  {
    dir: "lib", header: "bitops", prefix: "BITOPS", weight: 9,
    names: ["string", "vsprintf", "ctype", "bitmap", "rbtree", "idr", "kref", "sort", "crc32", "div64", "hweight",
      "radix_tree", "find_next_bit", "klist", "kobject", "parser", "halfmd4", "sha1", "cmdline", "int_sqrt", "gcd",
      "reciprocal_div", "bust_spinlocks", "dec_and_lock"],
    structs: ["rb_node", "idr_layer", "kobject", "klist_node"],
  },
  {
    dir: "net", header: "skbuff", prefix: "SKB", weight: 8,
    names: ["socket", "sock", "skbuff", "dev", "datagram", "stream", "scm", "iovec", "neighbour", "rtnetlink",
      "route", "tcp", "udp", "ip_output", "ip_input", "arp", "icmp", "devinet"],
    structs: ["sk_buff", "sock", "socket", "proto_ops"],
  },
  {
    dir: "ipc", header: "ipc", prefix: "IPC", weight: 4,
    names: ["msg", "sem", "shm", "util", "mqueue", "msgutil", "compat", "namespace"],
    structs: ["kern_ipc_perm", "msg_queue", "sem_array", "shmid_kernel"],
  },
];

const FIELD_WORDS = ["state", "flags", "count", "refcnt", "prio", "mask", "index", "offset", "size", "len", "mode",
  "type", "order", "nr_pages", "private", "seq", "hash", "id", "gen", "quota", "weight", "limit", "cpu", "node",
  "owner", "usage", "policy", "nice", "rss", "pgoff", "start", "end", "total", "free", "active", "dirty", "error",
  "status", "major", "minor", "tail", "head", "budget", "credit", "cookie", "magic", "version", "level", "depth", "key"];
const ARRAY_WORDS = ["slots", "stack", "map", "buf", "cache", "bits", "hist", "vec", "ring", "pending", "counters", "table"];
const VERBS = ["update", "check", "scan", "account", "balance", "flush", "reclaim", "commit", "verify", "merge",
  "split", "attach", "detach", "insert", "remove", "lookup", "refill", "drain", "resize", "probe", "wake", "sleep",
  "queue", "dequeue", "rotate", "mix", "fold", "charge", "uncharge", "settle", "mark", "sweep", "tick", "grow",
  "shrink", "pin", "unpin", "hash", "seed", "clamp", "count", "poll", "sync", "release", "acquire"];
const NOUNS = ["entry", "slot", "page", "node", "queue", "range", "zone", "block", "cache", "chain", "ring", "map",
  "list", "lock", "timer", "event", "buffer", "region", "group", "class", "table", "bucket", "window", "segment",
  "stat", "quota", "limit", "state", "vector", "cookie", "owner", "leaf"];

// ---- macros in include/linux/kernel.h ----------------------------------------------------------

const rol = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

function macros(nrCpus: number): MacroDef[] {
  return [
    { name: "ROL32", params: ["x", "n"], body: "(((x) << (n)) | ((x) >> (32 - (n))))", argKinds: ["u32", "shift"], eval: ([x, n]) => rol(x, n) },
    { name: "ROR32", params: ["x", "n"], body: "(((x) >> (n)) | ((x) << (32 - (n))))", argKinds: ["u32", "shift"], eval: ([x, n]) => rol(x, 32 - n) },
    { name: "HASH_MIX", params: ["a", "b"], body: "(((a) ^ (b)) * 0x9e3779b1u)", argKinds: ["u32", "u32"], eval: ([a, b]) => Math.imul(a ^ b, 0x9e3779b1) >>> 0 },
    { name: "MIN", params: ["a", "b"], body: "((a) < (b) ? (a) : (b))", argKinds: ["u32", "u32"], eval: ([a, b]) => (a < b ? a : b) },
    { name: "MAX", params: ["a", "b"], body: "((a) > (b) ? (a) : (b))", argKinds: ["u32", "u32"], eval: ([a, b]) => (a > b ? a : b) },
    { name: "ALIGN", params: ["x", "a"], body: "(((x) + ((a) - 1u)) & ~((a) - 1u))", argKinds: ["u32", "pow2"], eval: ([x, a]) => ((x + a - 1) & ~(a - 1)) >>> 0 },
    { name: "LOW16", params: ["x"], body: "((x) & 0xffffu)", argKinds: ["u32"], eval: ([x]) => x & 0xffff },
    { name: "HIGH16", params: ["x"], body: "((x) >> 16)", argKinds: ["u32"], eval: ([x]) => x >>> 16 },
    { name: "SWAB16", params: ["x"], body: "((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu))", argKinds: ["u32"], eval: ([x]) => ((x & 0xff) << 8) | ((x >>> 8) & 0xff) },
    { name: "hash_32", params: ["val", "bits"], body: "(((val) * GOLDEN_RATIO_32) >> (32 - (bits)))", argKinds: ["u32", "shift"], eval: ([v, b]) => Math.imul(v, 0x61c88647) >>> 0 >>> (32 - b) },
    { name: "BIT", params: ["n"], body: "(1u << (n))", argKinds: ["bit"], eval: ([n]) => (1 << n) >>> 0 },
    { name: "CLAMP", params: ["x", "lo", "hi"], body: "MIN(MAX(x, lo), hi)", argKinds: ["u32", "u32", "u32"], eval: ([x, lo, hi]) => { const m = x > lo ? x : lo; return m < hi ? m : hi; } },
    { name: "PER_CPU", params: ["x"], body: "((x) % (u32)NR_CPUS)", argKinds: ["u32"], eval: ([x]) => x % nrCpus },
  ];
}

/** Constants: name, value and C type, as a header defines them. */
interface Const {
  name: string;
  v: number;
  ty: Ty;
}

interface Header {
  path: string;
  /** Headers it includes. */
  includes: string[];
  text: string;
  consts: Const[];
  structs: StructDef[];
}

// ---- generation --------------------------------------------------------------------------------

interface SrcFile {
  path: string;
  sub: Subsys;
  id: string;
  entry: string;
  headers: string[];
}

export function generateTree(opts: GenOptions): GeneratedTree {
  const nfiles = Math.max(3, Math.floor(opts.files));
  const seed = opts.seed >>> 0;
  // A file includes its own subsystem's header and one to three others (main.c
  // all of them: 3.4 on average), besides ~450 lines of its own, of the
  // common headers and of the subsystem headers' fixed part.
  const headerLines = Math.max(0, Math.round(((opts.headerLines ?? DEFAULT_HEADER_LINES) - 450) / 3.4));
  const g = Rng.derive(seed, "tree");

  // Configuration (include/linux/autoconf.h).
  const nrCpus = g.pick([2, 4, 8]);
  const hz = g.pick([100, 250, 1000]);
  const smp = true;
  const macs = macros(nrCpus);

  // Which files: N-2 of them spread over the subsystems by weight, in a seeded order.
  const files = pickFiles(g, nfiles - 2);
  const used = new Set<string>();
  for (const f of files) used.add(f.id);

  // Headers.
  const headers = new Map<string, Header>();
  const common = commonHeaders(seed, nrCpus, hz, smp, macs);
  for (const h of common) headers.set(h.path, h);
  const subHeaders = new Map<string, Header>();
  for (const sub of SUBSYSTEMS) {
    const mine = files.filter((f) => f.sub === sub);
    const h = subsystemHeader(seed, sub, mine, headerLines, used);
    headers.set(h.path, h);
    subHeaders.set(sub.dir, h);
  }

  // Source files.
  const prog = new Program();
  const out: { path: string; text: string }[] = [];
  const depsOf = new Map<string, string[]>();
  for (const f of files) {
    const r = Rng.derive(seed, f.path);
    const own = subHeaders.get(f.sub.dir)!;
    const others = SUBSYSTEMS.filter((s) => s !== f.sub).map((s) => subHeaders.get(s.dir)!);
    r.shuffle(others);
    const extra = others.slice(0, r.int(1, 3));
    const incl = ["include/linux/types.h", "include/linux/kernel.h", ...(r.chance(0.5) ? ["include/linux/list.h"] : []), own.path, ...extra.map((h) => h.path)];
    f.headers = incl;
    const text = sourceFile(r, f, incl.map((p) => headers.get(p)!), own, macs, prog, used);
    out.push({ path: f.path, text });
    depsOf.set(f.path, closure(incl, headers));
  }

  // init/main.c and lib/print.c.
  const mainIncl = ["include/linux/types.h", "include/linux/kernel.h", ...SUBSYSTEMS.map((s) => subHeaders.get(s.dir)!.path)];
  const calls = files.map((f) => ({ f, seed: g.u32(), n: g.int(1, 8), mix: g.int(0, 2) }));
  const sum0 = g.u32();
  out.push({ path: "init/main.c", text: mainFile(calls, mainIncl, sum0, seed) });
  depsOf.set("init/main.c", closure(mainIncl, headers));
  out.push({ path: "lib/print.c", text: PRINT_C });
  depsOf.set("lib/print.c", closure(["include/linux/types.h", "include/linux/kernel.h"], headers));
  for (const h of headers.values()) out.push({ path: h.path, text: h.text });

  // What the program prints.
  let sum = sum0;
  for (const c of calls) {
    const r = prog.call(c.f.entry, [c.seed, c.n]);
    sum = c.mix === 0 ? (rol(sum, 7) ^ r) >>> 0 : c.mix === 1 ? (Math.imul(sum, 31) + r) >>> 0 : Math.imul(sum ^ r, 0x9e3779b1) >>> 0;
  }

  const objects = ["init/main.o", ...files.map((f) => f.path.replace(/\.c$/, ".o")), "lib/print.o"];
  out.push({ path: "Makefile", text: makefile(objects, depsOf, nfiles, seed) });
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: out, objects, program: "prog", expectedChecksum: sum, expectedOutput: `${sum}\n`, statements: prog.steps };
}

/** The generated files spread over subsystems: each a distinct path and C identifier. */
function pickFiles(g: Rng, n: number): SrcFile[] {
  const pools = SUBSYSTEMS.map((s) => g.shuffle([...s.names]));
  const taken = SUBSYSTEMS.map(() => 0);
  const ids = new Set<string>();
  const out: SrcFile[] = [];
  for (let i = 0; i < n; i++) {
    const si = g.weighted(SUBSYSTEMS.map((s) => s.weight));
    const sub = SUBSYSTEMS[si];
    const k = taken[si]++;
    const base = pools[si][k % pools[si].length] + (k >= pools[si].length ? `_${Math.floor(k / pools[si].length) + 1}` : "");
    const dirId = sub.dir.replace(/\//g, "_");
    let id = base;
    if (ids.has(id) || id === "main" || id === "print") id = `${dirId}_${base}`;
    ids.add(id);
    out.push({ path: `${sub.dir}/${base}.c`, sub, id, entry: `${dirId}_${base}_entry`, headers: [] });
  }
  return out;
}

function closure(incl: string[], headers: Map<string, Header>): string[] {
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const q of headers.get(p)?.includes ?? []) visit(q);
  };
  for (const p of incl) visit(p);
  return [...seen].sort();
}

// ---- shared headers ------------------------------------------------------------------------------

function guard(path: string): string {
  return "_" + path.replace(/^include\//, "").replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
}

function headerText(path: string, includes: string[], body: string[], what: string): string {
  const g = guard(path);
  const inc = includes.map((p) => `#include <${p.replace(/^include\//, "")}>`);
  return [`/*`, ` * ${path.replace(/^include\//, "")}: ${what}`, ` *`, ` * Generated by nozero gen-tree.`, ` */`, `#ifndef ${g}`, `#define ${g}`, "",
    ...(inc.length ? [...inc, ""] : []), ...body, "", `#endif /* ${g} */`, ""].join("\n");
}

function commonHeaders(seed: number, nrCpus: number, hz: number, smp: boolean, macs: MacroDef[]): Header[] {
  const g = Rng.derive(seed, "common-headers");
  const types = headerText("include/linux/types.h", [], [
    "typedef unsigned int u32;",
    "typedef unsigned short u16;",
    "typedef unsigned char u8;",
    "typedef int s32;",
    "typedef short s16;",
    "typedef signed char s8;",
    "typedef unsigned int uint;",
    "typedef unsigned long ulong;",
    "typedef u32 gfp_t;",
    "typedef u32 dev_t;",
    "typedef u32 umode_t;",
    "typedef int pid_t;",
    "typedef u32 sector_t;",
    "",
    "#define NULL ((void *)0)",
  ], "basic types");
  const autoconf = headerText("include/linux/autoconf.h", [], [
    ...(smp ? ["#define CONFIG_SMP 1"] : []),
    `#define CONFIG_NR_CPUS ${nrCpus}`,
    `#define CONFIG_HZ ${hz}`,
    "#define CONFIG_MMU 1",
    "#define CONFIG_BLOCK 1",
    "#define CONFIG_NET 1",
    "#undef CONFIG_DEBUG_SLAB",
  ], "the kernel configuration");
  const compiler = headerText("include/linux/compiler.h", [], [
    "#define likely(x) (x)",
    "#define unlikely(x) (x)",
    "#define __read_mostly",
    "#define __init",
    "#define __exit",
    "#define barrier() do { } while (0)",
  ], "compiler annotations (empty here)");
  const kbody: string[] = [
    "#ifdef CONFIG_SMP",
    "#define NR_CPUS CONFIG_NR_CPUS",
    "#else",
    "#define NR_CPUS 1",
    "#endif",
    "",
    "#if CONFIG_HZ >= 1000",
    "#define TICK_SHIFT 10",
    "#elif CONFIG_HZ >= 250",
    "#define TICK_SHIFT 8",
    "#else",
    "#define TICK_SHIFT 7",
    "#endif",
    "",
    "#define HZ CONFIG_HZ",
    "#define GOLDEN_RATIO_32 0x61c88647u",
    "#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))",
    "",
  ];
  for (const m of macs) kbody.push(`#define ${m.name}(${m.params.join(", ")}) ${m.body}`);
  kbody.push("", "extern void print_u32(u32 v);", "extern u32 jiffies;", "extern int panic_timeout;");
  for (let i = 0; i < 6; i++) kbody.push(`extern u32 ${g.pick(VERBS)}_${g.pick(NOUNS)}_${i}(u32 a, u32 b);`);
  const tickShift = hz >= 1000 ? 10 : hz >= 250 ? 8 : 7;
  const kernel: Header = {
    path: "include/linux/kernel.h",
    includes: ["include/linux/types.h", "include/linux/compiler.h", "include/linux/autoconf.h"],
    text: headerText("include/linux/kernel.h", ["include/linux/types.h", "include/linux/compiler.h", "include/linux/autoconf.h"], kbody, "macros every file uses"),
    consts: [
      { name: "NR_CPUS", v: nrCpus, ty: "int" },
      { name: "HZ", v: hz, ty: "int" },
      { name: "TICK_SHIFT", v: tickShift, ty: "int" },
      { name: "GOLDEN_RATIO_32", v: 0x61c88647, ty: "u32" },
    ],
    structs: [],
  };
  const list = headerText("include/linux/list.h", ["include/linux/types.h"], [
    "struct list_head {",
    "\tstruct list_head *next, *prev;",
    "};",
    "",
    "struct hlist_node {",
    "\tstruct hlist_node *next, **pprev;",
    "};",
    "",
    "#define LIST_POISON1 0x00100100u",
    "#define LIST_POISON2 0x00200200u",
    "",
    "extern void list_add(struct list_head *new, struct list_head *head);",
    "extern void list_del(struct list_head *entry);",
    "extern int list_empty(struct list_head *head);",
  ], "doubly linked lists");
  return [
    { path: "include/linux/types.h", includes: [], text: types, consts: [], structs: [] },
    { path: "include/linux/autoconf.h", includes: [], text: autoconf, consts: [], structs: [] },
    { path: "include/linux/compiler.h", includes: [], text: compiler, consts: [], structs: [] },
    kernel,
    {
      path: "include/linux/list.h", includes: ["include/linux/types.h"], text: list,
      consts: [{ name: "LIST_POISON1", v: 0x00100100, ty: "u32" }, { name: "LIST_POISON2", v: 0x00200200, ty: "u32" }], structs: [],
    },
  ];
}

/** include/linux/<sub>.h: structs, enums, constants, prototypes (its files' entries among them). */
function subsystemHeader(seed: number, sub: Subsys, mine: SrcFile[], lines: number, used: Set<string>): Header {
  const g = Rng.derive(seed, `header:${sub.header}`);
  const path = `include/linux/${sub.header}.h`;
  const body: string[] = [];
  const consts: Const[] = [];
  const structs: StructDef[] = [];
  // Forward declarations of the other subsystems' structs.
  const fwd = SUBSYSTEMS.filter((s) => s !== sub).flatMap((s) => s.structs.slice(0, 2));
  for (const s of fwd) body.push(`struct ${s};`);
  body.push("");
  // A small struct (nested in the others), then the main ones.
  const small: StructDef = { name: sub.structs[1], fields: [] };
  const sw = g.shuffle([...FIELD_WORDS]);
  for (let i = 0; i < g.int(2, 4); i++) small.fields.push({ name: sw[i], k: "scalar", elt: "u32" });
  structs.push(small);
  body.push(cStruct(small), "");
  for (const name of [sub.structs[0], ...sub.structs.slice(2)]) {
    const def: StructDef = { name, fields: [] };
    const words = g.shuffle([...FIELD_WORDS]);
    const nf = g.int(4, 9);
    for (let i = 0; i < nf; i++) {
      const k = g.weighted([8, 2, 2]);
      def.fields.push({ name: words[i], k: "scalar", elt: k === 0 ? "u32" : k === 1 ? "u16" : "u8" });
    }
    const arrWords = g.shuffle([...ARRAY_WORDS]);
    for (let i = 0; i < g.int(1, 2); i++) {
      const elt = g.weighted([6, 1, 2]);
      def.fields.splice(g.int(0, def.fields.length), 0, { name: arrWords[i], k: "array", elt: elt === 0 ? "u32" : elt === 1 ? "u16" : "u8", len: g.pick([4, 8, 16]) });
    }
    if (g.chance(0.7)) def.fields.push({ name: g.pick(["se", "link", "stats", "inner", "info"]), k: "struct", def: small });
    // A pointer member (never used by the code: parse load only).
    body.push(cStruct(def).replace(/\n};$/, `\n\tstruct ${g.pick(fwd)} *${g.pick(["owner_ptr", "parent", "next", "ops_data"])};\n};`), "");
    structs.push(def);
  }
  // Enumerations.
  for (let e = 0; e < g.int(1, 3); e++) {
    const ename = `${sub.header}_${g.pick(NOUNS)}_${e}`;
    const n = g.int(3, 8);
    const items: string[] = [];
    let v = 0;
    for (let i = 0; i < n; i++) {
      const name = `${sub.prefix}_${g.pick(NOUNS).toUpperCase()}_${e}_${i}`;
      if (g.chance(0.2)) {
        v = g.int(v, v + 10);
        items.push(`\t${name} = ${v},`);
      } else items.push(`\t${name},`);
      consts.push({ name, v, ty: "int" });
      v++;
    }
    body.push(`enum ${ename} {`, ...items, "};", "");
  }
  // Constants the code uses.
  const nconst = g.int(8, 20);
  for (let i = 0; i < nconst; i++) {
    const name = `${sub.prefix}_${g.pick(NOUNS).toUpperCase()}_${g.pick(VERBS).toUpperCase()}_${i}`;
    const v = g.chance(0.5) ? (1 << g.int(0, 30)) >>> 0 : g.u32() & (g.chance(0.5) ? 0xff : 0xffffff);
    consts.push({ name, v, ty: "u32" });
    body.push(`#define ${name} 0x${v.toString(16)}u`);
  }
  body.push("");
  // The bulk of a real header, which every includer's cc1 reads and no code
  // uses: prototypes of functions defined nowhere, more structures, enums,
  // constants and macros, and comments, up to `lines` lines.
  const structNames = [...sub.structs, ...fwd];
  const unique = (base: string) => {
    let n = base;
    for (let i = 2; used.has(n); i++) n = `${base}_${i}`;
    used.add(n);
    return n;
  };
  const ptypes = ["u32", "int", "void", "u32", "u16", "unsigned long"];
  const param = (k: number) => {
    const t = g.weighted([3, 2, 3, 1]);
    return t === 0 ? `u32 ${g.pick(FIELD_WORDS)}${k}` : t === 1 ? `int ${g.pick(FIELD_WORDS)}${k}` : t === 2 ? `struct ${g.pick(structNames)} *${g.pick(FIELD_WORDS)}${k}` : `char *name${k}`;
  };
  const start = body.length;
  while (body.length - start < lines) {
    switch (g.weighted([10, 3, 3, 1, 2, 2])) {
      case 0: {
        const name = unique(`${sub.header}_${g.pick(VERBS)}_${g.pick(NOUNS)}`);
        const ps = Array.from({ length: g.int(0, 4) }, (_, k) => param(k));
        body.push(`extern ${g.pick(ptypes)} ${name}(${ps.length ? ps.join(", ") : "void"});`);
        break;
      }
      case 1: {
        const name = unique(`${sub.prefix}_${g.pick(NOUNS).toUpperCase()}_${g.pick(FIELD_WORDS).toUpperCase()}`);
        body.push(`#define ${name} 0x${(g.u32() & 0xffffff).toString(16)}u`);
        break;
      }
      case 2: {
        const name = unique(`${sub.header}_${g.pick(NOUNS)}_${g.pick(["info", "desc", "ops", "state", "ctl", "map"])}`);
        const words = g.shuffle([...FIELD_WORDS]);
        const fields = Array.from({ length: g.int(3, 12) }, (_, i) => {
          const k = g.weighted([6, 2, 2, 2, 1]);
          return k === 0 ? `	u32 ${words[i]};` : k === 1 ? `	u16 ${words[i]};` : k === 2 ? `	struct ${g.pick(structNames)} *${words[i]};` : k === 3 ? `	u32 ${words[i]}[${g.pick([2, 4, 8, 16])}];` : `	u8 ${words[i]};`;
        });
        body.push(`struct ${name} {`, ...fields, "};", "");
        break;
      }
      case 3: {
        const name = unique(`${sub.header}_${g.pick(NOUNS)}_kind`);
        const n = g.int(3, 10);
        const items = Array.from({ length: n }, (_, i) => `	${name.toUpperCase()}_${g.pick(NOUNS).toUpperCase()}_${i},`);
        body.push(`enum ${name} {`, ...items, "};", "");
        break;
      }
      case 4: {
        const name = unique(`${sub.header}_${g.pick(NOUNS)}_${g.pick(FIELD_WORDS)}`);
        body.push(`#define ${name}(x) (((x) >> ${g.int(1, 24)}) & 0x${(g.u32() & 0xfff).toString(16)}u)`);
        break;
      }
      default: {
        const v = g.pick(VERBS);
        const nn = g.pick(NOUNS);
        body.push("/*", ` * ${sub.header}_${v}_${nn}: ${v} the ${nn} of a ${g.pick(structNames).replace(/_/g, " ")}.`, ` * Callers hold the ${g.pick(NOUNS)} lock; returns 0 or a negative errno.`, " */");
        break;
      }
    }
  }
  body.push("");
  for (let i = 0; i < g.int(1, 3); i++) body.push(`extern u32 ${sub.header}_${g.pick(NOUNS)}_count_${i};`);
  body.push("");
  for (const f of mine) body.push(`extern u32 ${f.entry}(u32 seed, int n);`);
  return {
    path,
    includes: ["include/linux/types.h", "include/linux/kernel.h"],
    text: headerText(path, ["include/linux/types.h", "include/linux/kernel.h"], body, `${sub.dir}/ declarations`),
    consts,
    structs,
  };
}

// ---- source files --------------------------------------------------------------------------------

/** What code at some point may read and write. */
interface Scope {
  u32r: string[]; // u32 variables that hold a value
  u32w: string[]; // u32 variables it may assign
  ints: string[]; // int variables that hold a value (loop counters, n)
  bases: { base: string; arrow: boolean; def: StructDef }[];
  arrays: { name: string; elt: Elt; len: number }[];
  garrs: { name: string; len: number }[];
  globs: string[];
  consts: Const[];
  macs: MacroDef[];
  /** Functions it may call: name, parameter kinds. */
  callees: { name: string; params: ("u32" | "int" | "sptr")[]; def?: StructDef }[];
  /** Loop counters still free, loop depth, and the loop kind (continue only in for). */
  freeCounters: string[];
  loopDepth: number;
  inFor: boolean;
  inLoop: boolean;
  n: string | null;
}

interface Ctx {
  r: Rng;
  id: string;
}

function lit(r: Rng): Expr {
  const k = r.weighted([3, 3, 2]);
  const v = k === 0 ? r.int(0, 255) : k === 1 ? r.u32() : (1 << r.int(0, 31)) >>> 0;
  return { k: "num", v, hex: v > 255 || r.chance(0.3) };
}

const asU32 = (e: Expr): Expr => (typeOf(e) === "u32" ? e : { k: "cast", a: e });

/** A u32-typed expression of at most `depth` levels. */
function genU32(c: Ctx, s: Scope, depth: number): Expr {
  const r = c.r;
  if (depth <= 0 || r.chance(0.3)) return leaf(c, s, depth);
  const k = r.weighted([10, 3, 3, 2, 3, 2, 2, 1, 1]);
  switch (k) {
    case 0: {
      const op = r.pick(["+", "-", "*", "^", "&", "|", "+", "^"]);
      return { k: "bin", op, a: genU32(c, s, depth - 1), b: genU32(c, s, depth - 1) };
    }
    case 1:
      return { k: "bin", op: r.pick(["<<", ">>"]), a: genU32(c, s, depth - 1), b: { k: "int", v: r.int(1, 31) } };
    case 2: {
      const m = macroCall(c, s, depth);
      if (m) return m;
      return leaf(c, s, depth);
    }
    case 3:
      return { k: "bin", op: r.pick(["/", "%"]), a: genU32(c, s, depth - 1), b: { k: "bin", op: "|", a: genU32(c, s, depth - 2), b: { k: "num", v: 1, hex: false } } };
    case 4:
      return { k: "cond", c: genCond(c, s, depth - 1), a: genU32(c, s, depth - 1), b: genU32(c, s, depth - 1) };
    case 5:
      return { k: "un", op: r.pick(["~", "-"]), a: genU32(c, s, depth - 1) };
    case 6:
      return { k: "bin", op: ">>", a: genU32(c, s, depth - 1), b: { k: "bin", op: "&", a: genU32(c, s, depth - 2), b: { k: "num", v: 31, hex: false } } };
    case 7:
      return { k: "cast", a: genCond(c, s, depth - 1) };
    default: {
      const a = genU32(c, s, depth - 1);
      return { k: "bin", op: "*", a, b: lit(r) };
    }
  }
}

function macroCall(c: Ctx, s: Scope, depth: number): Expr | null {
  const r = c.r;
  const def = r.pick(s.macs);
  const args = def.argKinds.map((k): Expr => {
    switch (k) {
      case "u32":
        return genU32(c, s, depth - 2);
      case "shift":
        return { k: "int", v: r.int(1, 31) };
      case "bit":
        return { k: "int", v: r.int(0, 31) };
      case "pow2":
        return { k: "num", v: 1 << r.int(1, 12), hex: true };
    }
  });
  return { k: "mac", def, args };
}

function leaf(c: Ctx, s: Scope, depth: number): Expr {
  const r = c.r;
  for (let tries = 0; tries < 6; tries++) {
    const k = r.weighted([8, 3, 6, 3, 2, 2, 2, 2]);
    switch (k) {
      case 0:
        if (s.u32r.length) return { k: "var", name: r.pick(s.u32r), ty: "u32" };
        break;
      case 1:
        return lit(r);
      case 2:
        if (s.bases.length) return fieldRef(c, s, depth);
        break;
      case 3:
        if (s.arrays.length) {
          const a = r.pick(s.arrays);
          return asU32({ k: "larr", name: a.name, len: a.len, elt: a.elt, idx: index(c, s, depth, a.len) });
        }
        break;
      case 4:
        if (s.garrs.length) {
          const a = r.pick(s.garrs);
          return { k: "garr", name: a.name, len: a.len, idx: index(c, s, depth, a.len) };
        }
        break;
      case 5:
        if (s.globs.length) return { k: "glob", name: r.pick(s.globs) };
        break;
      case 6:
        if (s.consts.length) {
          const k2 = r.pick(s.consts);
          return asU32({ k: "const", name: k2.name, v: k2.v, ty: k2.ty });
        }
        break;
      case 7:
        if (s.ints.length) return { k: "cast", a: { k: "var", name: r.pick(s.ints), ty: "int" } };
        break;
    }
  }
  return lit(r);
}

/** An index into an array of len (a power of two): masked. */
function index(c: Ctx, s: Scope, depth: number, len: number): Expr {
  const r = c.r;
  if (s.ints.length && r.chance(0.5)) return { k: "bin", op: "&", a: { k: "var", name: r.pick(s.ints), ty: "int" }, b: { k: "int", v: len - 1 } };
  return { k: "bin", op: "&", a: genU32(c, s, Math.min(1, depth - 1)), b: { k: "num", v: len - 1, hex: false } };
}

/** A read of some field through a struct base (u32-typed). */
function fieldRef(c: Ctx, s: Scope, depth: number): Expr {
  return asU32(fieldLv(c, s, depth, false));
}

/** A field lvalue (or rvalue): base->path[idx]. */
function fieldLv(c: Ctx, s: Scope, depth: number, wantU32: boolean): Extract<Expr, { k: "fld" }> {
  const r = c.r;
  const b = r.pick(s.bases);
  let def = b.def;
  const path: string[] = [];
  for (;;) {
    const cands = wantU32 ? def.fields.filter((f) => f.k === "struct" || f.elt === "u32") : def.fields;
    const f: Field = r.pick(cands.length ? cands : def.fields);
    path.push(f.name);
    if (f.k === "struct") {
      def = f.def;
      continue;
    }
    if (f.k === "array") return { k: "fld", base: b.base, arrow: b.arrow, path, elt: f.elt, len: f.len, idx: index(c, s, depth, f.len) };
    return { k: "fld", base: b.base, arrow: b.arrow, path, elt: f.elt, len: 0, idx: null };
  }
}

function genCond(c: Ctx, s: Scope, depth: number): Expr {
  const r = c.r;
  const k = r.weighted([6, 3, 1, 2, 1]);
  switch (k) {
    case 0: {
      const a = genU32(c, s, depth - 1);
      let b = genU32(c, s, depth - 1);
      if (cExpr(a) === cExpr(b)) b = lit(r);
      return { k: "bin", op: r.pick(["<", "<=", ">", ">=", "==", "!="]), a, b };
    }
    case 1:
      return { k: "bin", op: "!=", a: { k: "bin", op: "&", a: genU32(c, s, depth - 1), b: lit(r) }, b: { k: "num", v: 0, hex: false } };
    case 2:
      return { k: "un", op: "!", a: genU32(c, s, depth - 1) };
    case 3:
      return { k: "bin", op: r.pick(["&&", "||"]), a: genCond(c, s, depth - 1), b: genCond(c, s, depth - 1) };
    default:
      return { k: "bin", op: "<", a: genU32(c, s, depth - 1), b: lit(r) };
  }
}

/** An lvalue of u32 or narrow type and whether it is narrow. */
function genLv(c: Ctx, s: Scope, depth: number): Expr | null {
  const r = c.r;
  for (let tries = 0; tries < 6; tries++) {
    const k = r.weighted([6, 4, 3, 1, 1]);
    if (k === 0 && s.u32w.length) return { k: "var", name: r.pick(s.u32w), ty: "u32" };
    if (k === 1 && s.bases.length) return fieldLv(c, s, depth, false);
    if (k === 2 && s.arrays.length) {
      const a = r.pick(s.arrays);
      return { k: "larr", name: a.name, len: a.len, elt: a.elt, idx: index(c, s, depth, a.len) };
    }
    if (k === 3 && s.globs.length) return { k: "glob", name: r.pick(s.globs) };
    if (k === 4 && s.garrs.length) {
      const a = r.pick(s.garrs);
      return { k: "garr", name: a.name, len: a.len, idx: index(c, s, depth, a.len) };
    }
  }
  return null;
}

function isNarrow(lv: Expr): boolean {
  return (lv.k === "larr" || lv.k === "fld") && lv.elt !== "u32";
}

/** A list of statements worth about `budget` simple statements. */
function genStmts(c: Ctx, s: Scope, budget: number): Stmt[] {
  const out: Stmt[] = [];
  while (budget > 0) {
    const st = genStmt(c, s, budget);
    out.push(st.s);
    budget -= st.cost;
  }
  return out;
}

function genStmt(c: Ctx, s: Scope, budget: number): { s: Stmt; cost: number } {
  const r = c.r;
  const canLoop = s.freeCounters.length > 0 && s.loopDepth < 2 && budget >= 4;
  const w = [10, 2, budget >= 3 ? 4 : 0, canLoop ? 3 : 0, budget >= 5 ? 2 : 0, s.callees.length ? 3 : 0, s.inLoop ? 1 : 0];
  const k = r.weighted(w);
  switch (k) {
    case 0:
    case 1: {
      const lv = genLv(c, s, 2);
      if (lv === null) return { s: { k: "inc", lv: { k: "glob", name: s.globs[0] }, op: "++", post: true }, cost: 1 };
      if (k === 1 && !isNarrow(lv)) return { s: { k: "inc", lv, op: r.pick(["++", "--"]), post: r.chance(0.7) }, cost: 1 };
      const narrow = isNarrow(lv);
      const ops = narrow ? ["=", "+=", "^=", "|=", "-="] : ["=", "+=", "^=", "-=", "|=", "*=", "=", "^=", "<<=", ">>=", "&="];
      const op = r.pick(ops);
      if (op === "<<=" || op === ">>=") return { s: { k: "set", lv, op, e: { k: "int", v: r.int(1, 13) } }, cost: 1 };
      if (op === "&=") return { s: { k: "set", lv, op, e: { k: "bin", op: "|", a: genU32(c, s, 2), b: lit(r) } }, cost: 1 };
      return { s: { k: "set", lv, op, e: genU32(c, s, r.int(1, 4)) }, cost: 1 };
    }
    case 2: {
      const half = Math.max(1, Math.floor((budget - 1) / 2));
      const t = genStmts(c, s, r.int(1, Math.min(half, 4)));
      const f = r.chance(0.4) ? genStmts(c, s, r.int(1, Math.min(half, 3))) : null;
      return { s: { k: "if", c: genCond(c, s, 3), t, f }, cost: 2 + t.length + (f?.length ?? 0) };
    }
    case 3: {
      const v = s.freeCounters[0];
      const kind = r.weighted([5, 2, 1]);
      const bound: Expr = s.n !== null && r.chance(0.5) ? { k: "var", name: s.n, ty: "int" } : { k: "int", v: r.int(2, s.loopDepth === 0 ? 8 : 4) };
      const inner: Scope = {
        ...s,
        freeCounters: s.freeCounters.slice(1),
        ints: [...s.ints, v],
        loopDepth: s.loopDepth + 1,
        inFor: kind === 0,
        inLoop: true,
      };
      const bodyBudget = r.int(2, Math.min(8, budget - 2));
      const body = genStmts(c, inner, bodyBudget);
      const st: Stmt = kind === 0 ? { k: "for", v, n: bound, body } : kind === 1 ? { k: "while", v, n: bound, body } : { k: "do", v, n: bound, body };
      return { s: st, cost: 2 + bodyBudget };
    }
    case 4: {
      const m = r.int(3, 6);
      const sel: Expr = r.chance(0.5) ? { k: "bin", op: "%", a: genU32(c, s, 2), b: { k: "num", v: m, hex: false } } : { k: "bin", op: "&", a: genU32(c, s, 2), b: { k: "num", v: 7, hex: false } };
      const vals = r.shuffle([0, 1, 2, 3, 4, 5, 6, 7].slice(0, sel.k === "bin" && sel.op === "%" ? m : 8));
      const ncase = r.int(2, Math.min(4, vals.length));
      const cases: { labels: Expr[]; body: Stmt[]; brk: boolean }[] = [];
      let used = 0;
      for (let i = 0; i < ncase; i++) {
        const nl = r.chance(0.25) && used + 2 <= vals.length ? 2 : 1;
        const labels: Expr[] = vals.slice(used, used + nl).map((v) => ({ k: "int", v }));
        used += nl;
        const body = genStmts(c, { ...s, inLoop: s.inLoop }, r.int(1, 2));
        cases.push({ labels, body, brk: i === ncase - 1 || r.chance(0.75) });
      }
      const dflt = r.chance(0.6) ? genStmts(c, s, 1) : null;
      return { s: { k: "switch", e: sel, cases, dflt }, cost: 3 + ncase * 2 };
    }
    case 5: {
      const callee = r.pick(s.callees);
      const args: Arg[] = callee.params.map((p): Arg => {
        if (p === "u32") return { k: "val", e: genU32(c, s, 2) };
        if (p === "int") return { k: "val", e: { k: "int", v: r.int(0, 6) } };
        const b = s.bases.find((x) => x.def === callee.def);
        return b!.arrow ? { k: "ptr", name: b!.base } : { k: "addr", name: b!.base };
      });
      const lv = s.u32w.length ? { k: "var" as const, name: r.pick(s.u32w), ty: "u32" as const } : null;
      return { s: { k: "call", lv, op: r.pick(["=", "+=", "^="]), fn: callee.name, args }, cost: 2 };
    }
    default: {
      const exit: Stmt = s.inFor && r.chance(0.4) ? { k: "continue" } : { k: "break" };
      return { s: { k: "if", c: genCond(c, s, 2), t: [exit], f: null }, cost: 1 };
    }
  }
}

/** A source file: globals, helpers of three sizes, templates, the entry function. */
function sourceFile(r: Rng, f: SrcFile, incl: Header[], own: Header, macs: MacroDef[], prog: Program, used: Set<string>): string {
  const c: Ctx = { r, id: f.id };
  const consts = incl.flatMap((h) => h.consts);
  const defs = own.structs.filter((d) => d.fields.length > 4 || d.fields.some((x) => x.k !== "scalar"));
  const def = r.pick(defs.length ? defs : own.structs);
  const fns: Fn[] = [];
  const text: string[] = [];
  const name = (what: string) => {
    let n = `${f.id}_${what}`;
    for (let i = 2; used.has(n); i++) n = `${f.id}_${what}${i}`;
    used.add(n);
    return n;
  };
  text.push(`/*`, ` * linux/${f.path}`, ` *`, ` * ${r.pick(["Core", "Generic", "Low-level", "Common"])} ${f.id.replace(/_/g, " ")} ${r.pick(["routines", "support", "handling", "helpers"])}.`, ` * Generated by nozero gen-tree: kernel-like code in the toy compiler's C subset.`, ` */`, "");
  for (const h of incl) text.push(`#include <${h.path.replace(/^include\//, "")}>`);
  text.push("");

  // Globals: an initialised table (.data), a counter and a histogram (.bss).
  const globs: string[] = [];
  const garrs: { name: string; len: number }[] = [];
  if (r.chance(0.8)) {
    const n = name("table");
    const len = r.pick([4, 8, 16]);
    const vals = Array.from({ length: len }, () => r.u32());
    prog.globals.set(n, vals.slice());
    garrs.push({ name: n, len });
    text.push(`static u32 ${n}[${len}] = {`, ...chunk(vals.map((v) => `0x${v.toString(16)}u`), 4).map((l) => `\t${l.join(", ")},`), "};");
  }
  const calls = name("calls");
  prog.globals.set(calls, 0);
  globs.push(calls);
  text.push(`static u32 ${calls};`);
  if (r.chance(0.6)) {
    const n = name("hist");
    prog.globals.set(n, new Array<number>(8).fill(0));
    garrs.push({ name: n, len: 8 });
    text.push(`static u32 ${n}[8];`);
  }
  if (r.chance(0.4)) {
    const n = name("debug");
    const v = r.int(0, 3);
    prog.globals.set(n, v);
    globs.push(n);
    text.push(`u32 ${n} = ${v}u;`);
  }
  text.push("");

  const baseScope = (): Scope => ({
    u32r: [], u32w: [], ints: [], bases: [], arrays: [], garrs, globs, consts, macs,
    callees: [], freeCounters: ["i", "j", "k"], loopDepth: 0, inFor: false, inLoop: false, n: null,
  });

  // The init function: every field of the struct set from a seed.
  const init = initFunction(r, name("init"), def);
  fns.push(init);

  // Small helpers: (u32 a, u32 b) -> u32, straight-line code.
  const small: Scope["callees"] = [];
  for (let i = 0; i < r.int(2, 5); i++) {
    const fn = helper(c, baseScope(), name(`${r.pick(VERBS)}_${r.pick(NOUNS)}`), r.int(2, 6), false, null, small.slice());
    fns.push(fn);
    small.push({ name: fn.name, params: ["u32", "u32"] });
  }
  // Medium helpers: a struct pointer and a value; one loop level; may call small ones.
  const medium: Scope["callees"] = [];
  for (let i = 0; i < r.int(1, 3); i++) {
    const fn = helper(c, baseScope(), name(`${r.pick(VERBS)}_${r.pick(NOUNS)}`), r.int(4, 12), true, def, small);
    fns.push(fn);
    medium.push({ name: fn.name, params: ["sptr", "u32", "int"], def });
  }
  // Templates: recursion, a string hash, a pointer walk.
  const fold = name("fold");
  const foldConst = r.u32();
  const foldRot = r.int(1, 31);
  const foldMul = r.int(2, 9);
  fns.push({
    name: fold, isStatic: true, ret: "u32", params: [{ name: "x", ty: { k: "u32" } }, { name: "depth", ty: { k: "int" } }], locals: [], body: [],
    comment: "Fold a value over itself, recursively.",
    cBody: `\tif (depth <= 0)\n\t\treturn x ^ 0x${foldConst.toString(16)}u;\n\treturn ${fold}(ROL32(x, ${foldRot}) + (u32)depth, depth - 1) * ${foldMul}u + x;`,
    native: ([x, d]) => {
      const go = (x: number, d: number): number => (d <= 0 ? (x ^ foldConst) >>> 0 : (Math.imul(go((rol(x, foldRot) + d) >>> 0, d - 1), foldMul) + x) >>> 0);
      return go(x as number, d as number);
    },
  });
  const hashName = name("hash_name");
  fns.push({
    name: hashName, isStatic: true, ret: "u32", params: [{ name: "p", ty: { k: "cstr" } }], locals: [], body: [],
    cBody: "\tu32 h;\n\n\th = 2166136261u;\n\twhile (*p) {\n\t\th = (h ^ (u32)*p) * 16777619u;\n\t\tp++;\n\t}\n\treturn h;",
    native: ([p]) => {
      let h = 2166136261;
      for (const ch of p as string) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
      return h;
    },
  });
  const sumWords = name("sum_words");
  const swRot = r.int(1, 31);
  fns.push({
    name: sumWords, isStatic: true, ret: "u32", params: [{ name: "a", ty: { k: "aptr", elt: "u32", len: 16 } }, { name: "n", ty: { k: "int" } }], locals: [], body: [],
    cBody: `\tu32 s;\n\tu32 *end;\n\n\ts = 0u;\n\tend = a + n;\n\twhile (a < end) {\n\t\ts = ROL32(s, ${swRot}) ^ *a;\n\t\ta++;\n\t}\n\treturn s;`,
    native: ([a, n]) => {
      let s = 0;
      const arr = a as number[];
      for (let i = 0; i < (n as number); i++) s = (rol(s, swRot) ^ arr[i]) >>> 0;
      return s;
    },
  });

  // Large functions: two loop levels, switches, calls to the helpers.
  const large: Scope["callees"] = [];
  for (let i = 0; i < r.int(1, 3); i++) {
    const fn = helper(c, baseScope(), name(`${r.pick(VERBS)}_${r.pick(NOUNS)}`), r.int(10, 40), true, def, [...small, ...medium]);
    fns.push(fn);
    large.push({ name: fn.name, params: ["sptr", "u32", "int"], def });
  }

  // The entry: a struct on the stack, a word array, everything called.
  const entry = entryFunction(c, baseScope(), f, def, init.name, [...small, ...medium, ...large], fold, hashName, sumWords);
  fns.push(entry);

  for (const fn of fns) {
    prog.fns.set(fn.name, fn);
    text.push(cFunction(fn), "");
  }
  return text.join("\n");
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** static void X_init(struct S *s, u32 seed): set every field. */
function initFunction(r: Rng, name: string, def: StructDef): Fn {
  const body: Stmt[] = [];
  const seedV: Expr = { k: "var", name: "seed", ty: "u32" };
  const walk = (d: StructDef, path: string[]) => {
    for (const f of d.fields) {
      const p = [...path, f.name];
      if (f.k === "struct") walk(f.def, p);
      else if (f.k === "scalar") {
        body.push({ k: "set", lv: { k: "fld", base: "s", arrow: true, path: p, elt: f.elt, len: 0, idx: null }, op: "=", e: { k: "bin", op: r.pick(["^", "+", "*"]), a: seedV, b: lit(r) } });
      } else {
        const idx: Expr = { k: "var", name: "i", ty: "int" };
        body.push({
          k: "for", v: "i", n: { k: "int", v: f.len }, body: [{
            k: "set", lv: { k: "fld", base: "s", arrow: true, path: p, elt: f.elt, len: f.len, idx },
            op: "=", e: { k: "bin", op: "+", a: { k: "bin", op: "*", a: seedV, b: lit(r) }, b: { k: "cast", a: idx } },
          }],
        });
      }
    }
  };
  walk(def, []);
  const hasArray = JSON.stringify(def.fields).includes('"array"');
  return {
    name, isStatic: true, ret: "void",
    params: [{ name: "s", ty: { k: "sptr", def } }, { name: "seed", ty: { k: "u32" } }],
    locals: hasArray ? [{ name: "i", ty: { k: "int" } }] : [],
    body,
    comment: `Set up a struct ${def.name} from a seed.`,
  };
}

/**
 * A helper: (u32 a, u32 b) -> u32 when !withStruct, else
 * (struct S *s, u32 x, int n) -> u32, with `size` statements.
 */
function helper(c: Ctx, s: Scope, name: string, size: number, withStruct: boolean, def: StructDef | null, callees: Scope["callees"]): Fn {
  const r = c.r;
  const params: Fn["params"] = withStruct
    ? [{ name: "s", ty: { k: "sptr", def: def! } }, { name: "x", ty: { k: "u32" } }, { name: "n", ty: { k: "int" } }]
    : [{ name: "a", ty: { k: "u32" } }, { name: "b", ty: { k: "u32" } }];
  const locals: Fn["locals"] = [];
  const body: Stmt[] = [];
  const sc: Scope = { ...s, callees: callees.filter((x) => withStruct || x.params[0] !== "sptr") };
  if (withStruct) {
    sc.bases = [{ base: "s", arrow: true, def: def! }];
    sc.u32r = ["x"];
    sc.u32w = [];
    sc.n = "n";
    sc.ints = ["n"];
  } else {
    sc.u32r = ["a", "b"];
    sc.u32w = [];
    sc.freeCounters = size >= 4 ? ["i"] : [];
  }
  // Locals, each set before use.
  const nl = r.int(1, withStruct ? 4 : 2);
  for (let i = 0; i < nl; i++) {
    const v = ["h", "t", "acc", "v", "w"][i];
    locals.push({ name: v, ty: { k: "u32" } });
    body.push({ k: "set", lv: { k: "var", name: v, ty: "u32" }, op: "=", e: genU32(c, sc, 2) });
    sc.u32r = [...sc.u32r, v];
    sc.u32w = [...sc.u32w, v];
  }
  if (withStruct && r.chance(0.5)) {
    const len = r.pick([8, 16]);
    const elt: Elt = r.pick(["u32", "u32", "u8", "u16"]);
    locals.push({ name: "buf", ty: { k: "arr", elt, len } });
    body.push({
      k: "for", v: "i", n: { k: "int", v: len },
      body: [{ k: "set", lv: { k: "larr", name: "buf", len, elt, idx: { k: "var", name: "i", ty: "int" } }, op: "=", e: { k: "bin", op: "^", a: genU32(c, sc, 1), b: { k: "cast", a: { k: "var", name: "i", ty: "int" } } } }],
    });
    sc.arrays = [{ name: "buf", elt, len }];
  }
  body.push(...genStmts(c, sc, size));
  body.push({ k: "ret", e: genU32(c, sc, 3) });
  const counters = new Set<string>();
  const findCounters = (b: Stmt[]) => {
    for (const st of b) {
      if (st.k === "for" || st.k === "while" || st.k === "do") {
        counters.add(st.v);
        findCounters(st.body);
      } else if (st.k === "if") {
        findCounters(st.t);
        if (st.f) findCounters(st.f);
      } else if (st.k === "switch") {
        for (const cs of st.cases) findCounters(cs.body);
        if (st.dflt) findCounters(st.dflt);
      }
    }
  };
  findCounters(body);
  for (const v of ["i", "j", "k"]) if (counters.has(v)) locals.push({ name: v, ty: { k: "int" } });
  return { name, isStatic: true, ret: "u32", params, locals, body };
}

function entryFunction(
  c: Ctx, s: Scope, f: SrcFile, def: StructDef, init: string, callees: Scope["callees"], fold: string, hashName: string, sumWords: string,
): Fn {
  const r = c.r;
  const u = (name: string): Expr => ({ k: "var", name, ty: "u32" });
  const locals: Fn["locals"] = [
    { name: "st", ty: { k: "struct", def } },
    { name: "p", ty: { k: "sptr", def } },
    { name: "words", ty: { k: "arr", elt: "u32", len: 16 } },
    { name: "h", ty: { k: "u32" } },
    { name: "t", ty: { k: "u32" } },
    { name: "i", ty: { k: "int" } },
  ];
  const body: Stmt[] = [];
  body.push({ k: "raw", c: "p = &st;", run: (fr) => fr.vars.set("p", fr.vars.get("st") as Value) });
  body.push({ k: "call", lv: null, op: "=", fn: init, args: [{ k: "ptr", name: "p" }, { k: "val", e: u("seed") }] });
  body.push({
    k: "for", v: "i", n: { k: "int", v: 16 },
    body: [{ k: "set", lv: { k: "larr", name: "words", len: 16, elt: "u32", idx: { k: "var", name: "i", ty: "int" } }, op: "=", e: { k: "bin", op: "^", a: { k: "bin", op: "*", a: u("seed"), b: lit(r) }, b: { k: "cast", a: { k: "var", name: "i", ty: "int" } } } }],
  });
  body.push({ k: "set", lv: u("h"), op: "=", e: { k: "bin", op: "^", a: u("seed"), b: lit(r) } });
  body.push({ k: "set", lv: u("t"), op: "=", e: { k: "num", v: 0, hex: false } });
  body.push({ k: "inc", lv: { k: "glob", name: s.globs[0] }, op: "++", post: true });
  const sc: Scope = {
    ...s,
    u32r: ["seed", "h", "t"], u32w: ["h", "t"], ints: ["n"], n: "n",
    bases: [{ base: "p", arrow: true, def }, { base: "st", arrow: false, def }],
    arrays: [{ name: "words", elt: "u32", len: 16 }],
    callees, freeCounters: ["j", "k"],
  };
  // Call every helper once, with some mixing in between.
  for (const cl of r.shuffle([...callees])) {
    const args: Arg[] = cl.params.map((p): Arg => (p === "u32" ? { k: "val", e: genU32(c, sc, 2) } : p === "int" ? { k: "val", e: { k: "var", name: "n", ty: "int" } } : { k: "ptr", name: "p" }));
    body.push({ k: "call", lv: u("t"), op: "=", fn: cl.name, args });
    body.push({ k: "set", lv: u("h"), op: r.pick(["^=", "+="]), e: { k: "mac", def: s.macs.find((m) => m.name === "HASH_MIX")!, args: [u("t"), { k: "num", v: r.u32(), hex: true }] } });
    if (r.chance(0.4)) body.push(...genStmts(c, sc, r.int(1, 3)));
  }
  body.push({ k: "call", lv: u("t"), op: "=", fn: fold, args: [{ k: "val", e: u("h") }, { k: "val", e: { k: "int", v: r.int(2, 7) } }] });
  body.push({ k: "set", lv: u("h"), op: "^=", e: u("t") });
  body.push({ k: "call", lv: u("t"), op: "=", fn: hashName, args: [{ k: "str", s: `${f.path}:${r.pick(VERBS)}` }] });
  body.push({ k: "set", lv: u("h"), op: "+=", e: u("t") });
  body.push({ k: "call", lv: u("h"), op: "^=", fn: sumWords, args: [{ k: "ptr", name: "words" }, { k: "val", e: { k: "int", v: r.int(1, 16) } }] });
  body.push(...genStmts(c, sc, r.int(2, 6)));
  body.push({ k: "ret", e: { k: "bin", op: "^", a: u("h"), b: fieldRef(c, sc, 1) } });
  if (JSON.stringify(body, (k, v) => (k === "def" || k === "run" ? undefined : v)).includes('"v":"j"')) locals.push({ name: "j", ty: { k: "int" } });
  if (JSON.stringify(body, (k, v) => (k === "def" || k === "run" ? undefined : v)).includes('"v":"k"')) locals.push({ name: "k", ty: { k: "int" } });
  return {
    name: f.entry, isStatic: false, ret: "u32",
    params: [{ name: "seed", ty: { k: "u32" } }, { name: "n", ty: { k: "int" } }],
    locals, body,
    comment: `${f.entry}: the entry init/main.c calls.`,
  };
}

// ---- init/main.c, lib/print.c, the Makefile -------------------------------------------------------------

function mainFile(calls: { f: SrcFile; seed: number; n: number; mix: number }[], incl: string[], sum0: number, seed: number): string {
  const lines = [
    "/*",
    " * linux/init/main.c",
    " *",
    ` * Generated by nozero gen-tree (seed ${seed}): calls every file's entry`,
    " * function and prints a 32-bit checksum of their results.",
    " */",
    "",
    ...incl.map((p) => `#include <${p.replace(/^include\//, "")}>`),
    "",
    "int main(void)",
    "{",
    "\tu32 sum;",
    "\tu32 r;",
    "",
    `\tsum = 0x${sum0.toString(16)}u;`,
  ];
  for (const c of calls) {
    lines.push(`\tr = ${c.f.entry}(0x${c.seed.toString(16)}u, ${c.n});`);
    lines.push(c.mix === 0 ? "\tsum = ROL32(sum, 7) ^ r;" : c.mix === 1 ? "\tsum = sum * 31u + r;" : "\tsum = HASH_MIX(sum, r);");
  }
  lines.push("\tprint_u32(sum);", "\treturn 0;", "}", "");
  return lines.join("\n");
}

const PRINT_C = `/*
 * linux/lib/print.c
 *
 * print_u32: a number in decimal and a newline on standard output.
 * Generated by nozero gen-tree.
 */

#include <linux/types.h>
#include <linux/kernel.h>

#ifdef __NOZERO__
#define sys_write(fd, buf, len) __syscall(4, (fd), (buf), (len))
#else
extern int write(int fd, char *buf, unsigned int len);
#define sys_write(fd, buf, len) write((fd), (buf), (len))
#endif

void print_u32(u32 v)
{
\tchar buf[12];
\tint i;

\ti = 11;
\tbuf[i] = '\\n';
\tdo {
\t\ti--;
\t\tbuf[i] = (char)('0' + v % 10u);
\t\tv = v / 10u;
\t} while (v != 0u);
\tsys_write(1, buf + i, 12 - i);
}
`;

function makefile(objects: string[], depsOf: Map<string, string[]>, nfiles: number, seed: number): string {
  const lines = [
    `# Makefile for a generated kernel-like tree (nozero gen-tree --files ${nfiles} --seed ${seed}).`,
    "# Every .c is compiled by cc (cc1, then as); the objects are linked into prog.",
    "",
    "CC = cc",
    "CFLAGS = -O1 -Iinclude",
    "",
    "OBJS = \\",
    ...objects.map((o, i) => `\t${o}${i < objects.length - 1 ? " \\" : ""}`),
    "",
    "all: prog",
    "",
    "prog: $(OBJS)",
    "\t$(CC) $(OBJS) -o $@",
    "",
    "%.o: %.c",
    "\t$(CC) $(CFLAGS) -c $< -o $@",
    "",
    "# Header dependencies (what gcc -MD would have recorded).",
  ];
  for (const o of objects) {
    const src = o.replace(/\.o$/, ".c");
    lines.push(`${o}: ${(depsOf.get(src) ?? []).join(" ")}`);
  }
  lines.push("", "clean:", "\trm -f $(OBJS) prog", "", ".PHONY: all clean", "");
  return lines.join("\n");
}
