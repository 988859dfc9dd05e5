// Bringing goals up to date (GNU make's remake.c, implicit.c and job.c):
// walk the dependency graph from the goals, find implicit (pattern) rules
// for files without a recipe, compare modification times, and run each
// out-of-date target's recipe one line at a time, each line a child
// `/bin/sh -c LINE`. With -j N up to N recipes run at once: make forks them
// and then waits for any child (wait4(-1)); the kernel runs the children
// while make is blocked and places them on the simulated CPUs.
//
// struct job { job *next; file *file; u32 line; u32 pid; u32 flags; u32 lineno; }   24 bytes

import { signalMessage } from "../../../kernel/signal.ts";
import { NR } from "../../../kernel/unistd.ts";
import { WEXITSTATUS, WIFEXITED, WIFSIGNALED, WTERMSIG } from "../../../libc/libc.ts";
import { expand, newerThan, patMatch, patSubst, percentAt } from "./expand.ts";
import {
  C_FILE, C_LINES, C_NLINES, CMDLINE_SIZE, D_FILE, D_FLAGS, D_NEXT, DEP_ORDER_ONLY, F_CMDS, F_DEPS, F_FLAGS, F_MTIME,
  F_MTIMENS, F_STATE, F_STEM, F_STEMLEN, FF_EXISTS, FF_IMPLICIT_DONE, FF_MENTIONED, FF_NEWEST, FF_PHONY, FF_REMADE,
  FF_STATTED, FF_TARGET, H_NAME, H_NAMELEN, type Make, O_ENV, R_CMDS, R_DEPS, R_NDEPS, R_NEXT, R_TARGET,
  R_TARGETLEN, S_CHECKING, S_DONE, S_FAILED, S_NEW, S_RUNNING, V_FLAGS, V_VALUE, V_VALUELEN, VAR_EXPORT, htabEach,
} from "./state.ts";
import { UBuf, UVec, execvUser, isSpace, udupStr, ujs, ulen } from "./ustr.ts";

const J_NEXT = 0;
const J_FILE = 4;
const J_LINE = 8;
const J_PID = 12;
const J_FLAGS = 16;
const J_LINENO = 20;
const JOB_SIZE = 24;
const JF_IGNORE = 1;

const DONE = 0;
const PENDING = 1;
const FAILED = 2;

const STAT64_SIZE = 96;

/** Bring the goals (file pointers) up to date; make's exit status. */
export function updateGoals(mk: Make, goals: UVec): number {
  const libc = mk.libc;
  const m = mk.mem;
  // Each pass starts what can start; then wait for a child. Nothing running
  // after a pass means every goal is done or failed (or make stopped).
  for (;;) {
    const prev = libc.enter(mk.sym.update);
    for (let i = 0; i < goals.len; i++) updateFile(mk, goals.get(i), 0);
    libc.leave(prev);
    if (mk.njobs === 0) break;
    reapChild(mk);
  }
  if (!mk.hadError && mk.commandsStarted === 0) {
    for (let i = 0; i < goals.len; i++) {
      const g = goals.get(i);
      const name = mk.fileName(g);
      if (m.readU32(g + F_CMDS) !== 0 && !(mk.flags(g) & FF_PHONY)) mk.message(`'${name}' is up to date.`);
      else mk.message(`Nothing to be done for '${name}'.`);
    }
  }
  if (mk.hadError && mk.opts.keepGoing) {
    for (let i = 0; i < goals.len; i++) {
      const g = goals.get(i);
      if (m.readU32(g + F_STATE) === S_FAILED) mk.error(`Target '${mk.fileName(g)}' not remade because of errors.`);
    }
  }
  libc.fflush();
  return mk.hadError ? 2 : 0;
}

/** One visit of file f (needed by `parent`, or a goal): DONE, PENDING or FAILED. */
function updateFile(mk: Make, f: number, parent: number): number {
  const m = mk.mem;
  const state = m.readU32(f + F_STATE);
  if (state === S_DONE) return DONE;
  if (state === S_FAILED) return FAILED;
  if (state === S_RUNNING) return PENDING;
  if (state === S_CHECKING) {
    mk.error(`Circular ${mk.fileName(parent)} <- ${mk.fileName(f)} dependency dropped.`);
    return DONE;
  }
  mk.libc.work(20);
  if (!(mk.flags(f) & FF_IMPLICIT_DONE)) {
    mk.setFlags(f, FF_IMPLICIT_DONE);
    statFile(mk, f);
    if (m.readU32(f + F_CMDS) === 0 && !(mk.flags(f) & FF_PHONY)) implicitSearch(mk, f);
  }
  m.write32(f + F_STATE, S_CHECKING);
  let pending = false;
  let failed = false;
  for (let d = m.readU32(f + F_DEPS); d !== 0; d = m.readU32(d + D_NEXT)) {
    const r = updateFile(mk, m.readU32(d + D_FILE), f);
    if (r === PENDING) pending = true;
    else if (r === FAILED) {
      failed = true;
      if (!mk.opts.keepGoing) break;
    }
    if (mk.stopped) break;
  }
  m.write32(f + F_STATE, S_NEW);
  if (failed) {
    m.write32(f + F_STATE, S_FAILED);
    return FAILED;
  }
  if (pending || mk.stopped) return PENDING;

  const flags = mk.flags(f);
  const cmds = m.readU32(f + F_CMDS);
  const exists = (flags & FF_EXISTS) !== 0;
  if (!exists && cmds === 0 && !(flags & (FF_TARGET | FF_PHONY)) && m.readU32(f + F_DEPS) === 0) {
    const name = mk.fileName(f);
    const why = parent !== 0 ? `No rule to make target '${name}', needed by '${mk.fileName(parent)}'` : `No rule to make target '${name}'`;
    mk.error(mk.opts.keepGoing ? `*** ${why}.` : `*** ${why}.  Stop.`);
    mk.hadError = true;
    if (!mk.opts.keepGoing) stop(mk);
    m.write32(f + F_STATE, S_FAILED);
    return FAILED;
  }
  let remake = (flags & FF_PHONY) !== 0 || !exists || (mk.opts.alwaysMake && cmds !== 0);
  for (let d = m.readU32(f + F_DEPS); d !== 0 && !remake; d = m.readU32(d + D_NEXT)) {
    if (m.readU32(d + D_FLAGS) & DEP_ORDER_ONLY) continue;
    if (newerThan(mk, m.readU32(d + D_FILE), f)) remake = true;
  }
  if (!remake) {
    m.write32(f + F_STATE, S_DONE);
    return DONE;
  }
  if (cmds === 0) {
    // Nothing to run: the target counts as updated.
    if (!exists || flags & FF_PHONY) mk.setFlags(f, FF_NEWEST);
    m.write32(f + F_STATE, S_DONE);
    return DONE;
  }
  if (mk.njobs >= mk.opts.jobs) return PENDING;
  return startJob(mk, f) ? PENDING : m.readU32(f + F_STATE) === S_FAILED ? FAILED : DONE;
}

function stop(mk: Make): void {
  if (mk.stopped) return;
  mk.stopped = true;
  if (mk.njobs > 0) mk.error("*** Waiting for unfinished jobs....");
}

/** stat(2) the file into its struct (exists, mtime). */
function statFile(mk: Make, f: number): void {
  const m = mk.mem;
  if (mk.statBuf === 0) mk.statBuf = mk.malloc(STAT64_SIZE);
  const r = mk.libc.syscall(NR.stat64, m.readU32(f + H_NAME), mk.statBuf);
  let flags = mk.flags(f) | FF_STATTED;
  if (r < 0) flags &= ~FF_EXISTS;
  else {
    flags |= FF_EXISTS;
    m.write32(f + F_MTIME, m.readU32(mk.statBuf + 72));
    m.write32(f + F_MTIMENS, m.readU32(mk.statBuf + 76));
  }
  m.write32(f + F_FLAGS, flags);
}

// ---- implicit rules ----------------------------------------------------------------------------

/**
 * Find a pattern rule for f: its target pattern matches (the directory part
 * of f's name set aside when the pattern has no '/'), and each prerequisite
 * exists or ought to (is mentioned in the makefile). The shortest stem wins;
 * then the first rule. The rule's prerequisites go first in f's list.
 */
function implicitSearch(mk: Make, f: number): void {
  const m = mk.mem;
  const libc = mk.libc;
  const name = m.readU32(f + H_NAME);
  const len = m.readU32(f + H_NAMELEN);
  let dirLen = 0;
  for (let i = len - 1; i >= 0; i--) {
    if (m.read8(name + i) === 0x2f) {
      dirLen = i + 1;
      break;
    }
  }
  let best = 0;
  let bestStem = 0;
  let bestStemLen = 0x7fffffff;
  let bestSlash = false;
  const cand = new UBuf(libc, 64);
  for (let r = mk.rules; r !== 0; r = m.readU32(r + R_NEXT)) {
    const tp = m.readU32(r + R_TARGET);
    const tl = m.readU32(r + R_TARGETLEN);
    const pc = percentAt(mk, tp, tl);
    let slash = false;
    for (let i = 0; i < tl; i++) if (m.read8(tp + i) === 0x2f) slash = true;
    const off = slash ? 0 : dirLen;
    const sl = patMatch(mk, tp, tl, pc, name + off, len - off);
    libc.work(tl + 4);
    if (sl < 0 || sl >= bestStemLen) continue;
    const stem = name + off + pc;
    let ok = true;
    const nd = m.readU32(r + R_NDEPS);
    const deps = m.readU32(r + R_DEPS);
    for (let k = 0; k < nd && ok; k++) {
      cand.clear();
      depName(mk, m.readU32(deps + 8 * k), m.readU32(deps + 8 * k + 4), slash ? 0 : name, slash ? 0 : dirLen, stem, sl, cand);
      const known = mk.lookupFile(cand.ptr, cand.len);
      if (known !== 0 && mk.flags(known) & (FF_MENTIONED | FF_TARGET)) continue;
      if (libc.syscall(NR.stat64, cand.ptr, mk.statBuf) < 0) ok = false;
    }
    if (!ok) continue;
    best = r;
    bestStem = stem;
    bestStemLen = sl;
    bestSlash = slash;
  }
  if (best !== 0) {
    // $*: the directory and the stem.
    cand.clear();
    if (!bestSlash) cand.put(name, dirLen);
    cand.put(bestStem, bestStemLen);
    m.write32(f + F_STEM, cand.dup());
    m.write32(f + F_STEMLEN, cand.len);
    m.write32(f + F_CMDS, m.readU32(best + R_CMDS));
    const nd = m.readU32(best + R_NDEPS);
    const deps = m.readU32(best + R_DEPS);
    for (let k = nd - 1; k >= 0; k--) {
      cand.clear();
      depName(mk, m.readU32(deps + 8 * k), m.readU32(deps + 8 * k + 4), bestSlash ? 0 : name, bestSlash ? 0 : dirLen, bestStem, bestStemLen, cand);
      const d = mk.enterFile(cand.ptr, cand.len);
      mk.prependDep(f, d);
    }
  }
  cand.free();
}

/** A prerequisite pattern with the stem put in (and the target's directory before it, when the pattern has a '%'). */
function depName(mk: Make, dp: number, dl: number, dir: number, dirLen: number, stem: number, sl: number, out: UBuf): void {
  if (dirLen > 0 && percentAt(mk, dp, dl) >= 0) out.put(dir, dirLen);
  patSubst(mk, dp, dl, stem, sl, out);
}

// ---- jobs ------------------------------------------------------------------------------------

/** Start f's recipe; true if a child is running for it (false: it finished at once). */
function startJob(mk: Make, f: number): boolean {
  const m = mk.mem;
  const prev = mk.libc.enter(mk.sym.job);
  const job = mk.calloc(JOB_SIZE);
  m.write32(job + J_FILE, f);
  m.write32(f + F_STATE, S_RUNNING);
  m.write32(job + J_NEXT, mk.jobs);
  mk.jobs = job;
  mk.njobs++;
  const running = runLines(mk, job);
  mk.libc.leave(prev);
  return running;
}

/**
 * Run the job's recipe from its current line: expand the line, print it,
 * fork `sh -c` for it. Lines that expand to nothing are skipped. Returns
 * true if a child was started, false if the recipe is finished (or failed).
 */
function runLines(mk: Make, job: number): boolean {
  const m = mk.mem;
  const libc = mk.libc;
  const f = m.readU32(job + J_FILE);
  const cmds = m.readU32(f + F_CMDS);
  const nlines = m.readU32(cmds + C_NLINES);
  const lines = m.readU32(cmds + C_LINES);
  for (let i = m.readU32(job + J_LINE); i < nlines; i++) {
    m.write32(job + J_LINE, i);
    const cl = lines + i * CMDLINE_SIZE;
    const text = m.readU32(cl);
    const tlen = m.readU32(cl + 4);
    m.write32(job + J_LINENO, m.readU32(cl + 8));
    const cmd = new UBuf(libc, tlen + 32);
    mk.autoFile = f;
    try {
      expand(mk, text, tlen, cmd);
    } finally {
      mk.autoFile = 0;
    }
    // Prefixes: @ (silent), - (ignore errors), + (run even with -n).
    let s = 0;
    let silent = mk.opts.silent;
    let ignore = mk.opts.ignoreErrors;
    for (; s < cmd.len; s++) {
      const c = cmd.byteAt(s);
      if (c === 0x40) silent = true;
      else if (c === 0x2d) ignore = true;
      else if (c !== 0x2b && !isSpace(c)) break;
    }
    let e = cmd.len;
    while (e > s && isSpace(cmd.byteAt(e - 1))) e--;
    if (e === s) {
      cmd.free();
      continue;
    }
    m.write32(job + J_FLAGS, ignore ? JF_IGNORE : 0);
    if (!silent || mk.opts.dryRun) {
      // The command line on stdout, as make echoes it.
      libc.fflush();
      const save = cmd.byteAt(e);
      m.write8(cmd.ptr + e, 0x0a);
      libc.write(1, cmd.ptr + s, e - s + 1);
      m.write8(cmd.ptr + e, save);
    }
    mk.commandsStarted++;
    if (mk.opts.dryRun) {
      cmd.free();
      continue;
    }
    m.write8(cmd.ptr + e, 0);
    const argv = new UVec(libc, 4);
    argv.push(mk.shellPath());
    argv.push(mk.dashC());
    argv.push(cmd.ptr + s);
    const env = childEnv(mk);
    libc.fflush();
    // The child runs later, on its copy of this memory: hand it plain pointers, not JS objects.
    const shell = mk.shellPath();
    const argvPtr = argv.ptr;
    const pid = libc.fork((c) => {
      execvUser(c, shell, argvPtr, env);
      c.eprintf("make: /bin/sh: %s\n", c.errno === 2 ? "No such file or directory" : "cannot execute");
      return 127;
    });
    argv.free();
    cmd.free();
    if (pid < 0) {
      mk.error(`fork: ${libc.errno === 11 ? "Resource temporarily unavailable" : "Cannot allocate memory"}`);
      finishJob(mk, job, false);
      return false;
    }
    m.write32(job + J_PID, pid);
    return true;
  }
  finishJob(mk, job, true);
  return false;
}

/** Wait for any child; account its line, then continue or finish its job. */
function reapChild(mk: Make): void {
  const libc = mk.libc;
  const m = mk.mem;
  const prev = libc.enter(mk.sym.reap);
  const w = libc.waitpid(-1);
  if (w === null) {
    // No children left (cannot happen while jobs run): drop them all.
    while (mk.jobs !== 0) finishJob(mk, mk.jobs, false);
    libc.leave(prev);
    return;
  }
  let job = mk.jobs;
  while (job !== 0 && m.readU32(job + J_PID) !== w.pid) job = m.readU32(job + J_NEXT);
  if (job === 0) {
    libc.leave(prev);
    return; // not ours
  }
  const f = m.readU32(job + J_FILE);
  const ok = WIFEXITED(w.status) && WEXITSTATUS(w.status) === 0;
  if (!ok) {
    const cmds = m.readU32(f + F_CMDS);
    const file = m.readU32(cmds + C_FILE);
    const where = `${ujs(libc, file, ulen(libc, file))}:${m.readU32(job + J_LINENO)}: ${mk.fileName(f)}`;
    const what = WIFSIGNALED(w.status) ? signalMessage(WTERMSIG(w.status)) : `Error ${WEXITSTATUS(w.status)}`;
    if (m.readU32(job + J_FLAGS) & JF_IGNORE) {
      mk.error(`[${where}] ${what} (ignored)`);
    } else {
      mk.error(`*** [${where}] ${what}`);
      mk.hadError = true;
      finishJob(mk, job, false);
      if (!mk.opts.keepGoing) stop(mk);
      libc.leave(prev);
      return;
    }
  }
  m.write32(job + J_LINE, m.readU32(job + J_LINE) + 1);
  if (!mk.stopped || mk.opts.keepGoing) runLines(mk, job);
  else finishJob(mk, job, false);
  libc.leave(prev);
}

/** The job is over: unlink it and record the target's new state. */
function finishJob(mk: Make, job: number, ok: boolean): void {
  const m = mk.mem;
  const f = m.readU32(job + J_FILE);
  let p = mk.jobs;
  let prevJob = 0;
  while (p !== 0 && p !== job) {
    prevJob = p;
    p = m.readU32(p + J_NEXT);
  }
  if (p === job) {
    if (prevJob === 0) mk.jobs = m.readU32(job + J_NEXT);
    else m.write32(prevJob + J_NEXT, m.readU32(job + J_NEXT));
    mk.njobs--;
  }
  mk.libc.free(job);
  if (!ok) {
    m.write32(f + F_STATE, S_FAILED);
    return;
  }
  statFile(mk, f);
  const flags = mk.flags(f) | FF_REMADE;
  m.write32(f + F_FLAGS, flags & FF_EXISTS && !(flags & FF_PHONY) && !mk.opts.dryRun ? flags : flags | FF_NEWEST);
  m.write32(f + F_STATE, S_DONE);
}

// ---- the recipes' environment ----------------------------------------------------------------------

/**
 * The envp for recipes, built once: make's own environment with the values of
 * variables the makefile changed, exported variables, and MAKELEVEL one up.
 */
function childEnv(mk: Make): number {
  if (mk.childEnv !== 0) return mk.childEnv;
  const libc = mk.libc;
  const m = mk.mem;
  const env = new UVec(libc, 64);
  const seen = new UVec(libc, 16);
  const entry = (np: number, nl: number, v: number): number => {
    const b = new UBuf(libc, nl + 32);
    b.put(np, nl);
    b.putByte(0x3d);
    if ((m.readU32(v + V_FLAGS) & 1) !== 0) b.put(m.readU32(v + V_VALUE), m.readU32(v + V_VALUELEN));
    else expand(mk, m.readU32(v + V_VALUE), m.readU32(v + V_VALUELEN), b);
    const p = b.dup();
    b.free();
    return p;
  };
  for (let e = libc.environPtr; e !== 0; e += 4) {
    const s = m.readU32(e);
    if (s === 0) break;
    let nl = 0;
    while (m.read8(s + nl) !== 0 && m.read8(s + nl) !== 0x3d) nl++;
    if (nl === 9 && ujs(libc, s, nl) === "MAKELEVEL") continue;
    const v = mk.lookupVar(s, nl);
    if (v !== 0 && m.readU32(v + V_FLAGS) >>> 8 !== O_ENV) {
      env.push(entry(s, nl, v));
      seen.push(v);
    } else env.push(s);
  }
  htabEach(mk, mk.vars, (v) => {
    if (!(m.readU32(v + V_FLAGS) & VAR_EXPORT)) return;
    for (let i = 0; i < seen.len; i++) if (seen.get(i) === v) return;
    env.push(entry(m.readU32(v + H_NAME), m.readU32(v + H_NAMELEN), v));
  });
  env.push(udupStr(libc, `MAKELEVEL=${mk.makelevel + 1}`));
  seen.free();
  mk.childEnv = env.ptr; // kept for the life of the process
  return env.ptr;
}
