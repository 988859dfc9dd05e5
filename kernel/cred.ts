// Credentials: the setuid family's rules, ptrace's access check, and the
// owner-tag rule that keeps uncleared frames from crossing identities.
//
// The rule (the 2007 patch's "same user" test, made safe): a frame's owner
// tag is the effective uid that wrote it. When a task's identity changes, the
// frames of its address space were written by the old identity, so they are
// marked mixed and will be cleared for everyone. A task whose real and
// effective identities differ (a setuid program), or that is not dumpable,
// neither gets uncleared frames nor leaves frames to be recycled uncleared
// (Rik van Riel's request in the v2 thread: exclude SUID programs).

import { EPERM } from "./errno.ts";
import { TAG_MIXED } from "./frames.ts";
import type { Kernel } from "./kernel.ts";
import { PTE_SPECIAL, pteHasFrame } from "./pagetable.ts";
import { PAGE_SIZE } from "./param.ts";
import { type Cred, Task, credTag } from "./task.ts";

/** Install new credentials on t's thread group; frames written so far stop matching anyone. */
export function commitCreds(k: Kernel, t: Task, next: Cred): void {
  const leader = k.tasks.get(t.tgid) ?? t;
  const group = [leader, ...leader.threads];
  const changed = next.euid !== t.cred.euid || next.egid !== t.cred.egid;
  for (const th of group) th.cred = { ...next };
  if (!changed) return;
  for (const th of group) th.dumpable = false;
  if (t.mm !== null) retagMm(k, t, credTag(next));
}

/** Every frame mapped by t's address space that `tag` did not write becomes mixed. */
function retagMm(k: Kernel, t: Task, tag: number): void {
  const mm = t.mm!;
  const i32 = k.phys.i32;
  for (const v of mm.vmas.list) {
    for (let a = v.start; a < v.end; a += PAGE_SIZE) {
      const s = mm.pteSlot(a);
      if (s < 0) continue;
      const pte = i32[s];
      if (!pteHasFrame(pte) || pte & PTE_SPECIAL) continue;
      const f = pte >>> 12;
      if (k.frames.tag[f] !== tag) k.frames.tag[f] = TAG_MIXED;
    }
  }
}

/** setuid(uid): root sets all three ids; others may only set euid to their real or saved uid. */
export function setuid(k: Kernel, t: Task, uid: number): number {
  const c = t.cred;
  if (c.euid === 0) commitCreds(k, t, { ...c, uid, euid: uid, suid: uid });
  else if (uid === c.uid || uid === c.suid) commitCreds(k, t, { ...c, euid: uid });
  else return -EPERM;
  return 0;
}

export function setgid(k: Kernel, t: Task, gid: number): number {
  const c = t.cred;
  if (c.euid === 0) commitCreds(k, t, { ...c, gid, egid: gid, sgid: gid });
  else if (gid === c.gid || gid === c.sgid) commitCreds(k, t, { ...c, egid: gid });
  else return -EPERM;
  return 0;
}

/** setresuid: -1 (0xffffffff) leaves an id unchanged; unprivileged tasks may only use their current ids. */
export function setresuid(k: Kernel, t: Task, r: number, e: number, s: number): number {
  const c = t.cred;
  const keep = 0xffffffff;
  const allowed = (x: number) => x === keep || x === c.uid || x === c.euid || x === c.suid;
  if (c.euid !== 0 && !(allowed(r) && allowed(e) && allowed(s))) return -EPERM;
  commitCreds(k, t, {
    ...c,
    uid: r === keep ? c.uid : r,
    euid: e === keep ? c.euid : e,
    suid: s === keep ? c.suid : s,
  });
  return 0;
}

/**
 * __ptrace_may_access: the tracer's real uid must match the target's real,
 * effective and saved uids (and likewise gids), and the target must be
 * dumpable; root (CAP_SYS_PTRACE) may attach to anything.
 */
export function ptraceMayAccess(tracer: Task, target: Task): boolean {
  if (tracer.tgid === target.tgid) return true;
  if (tracer.cred.euid === 0) return true;
  const a = tracer.cred;
  const b = target.cred;
  const same = a.uid === b.uid && a.uid === b.euid && a.uid === b.suid && a.gid === b.gid && a.gid === b.egid && a.gid === b.sgid;
  return same && target.dumpable;
}

/**
 * May t be handed frames it did not itself clear, and may its frames be
 * recycled uncleared? Not when its identities differ (a setuid program) or
 * it is not dumpable (it asked, or was made, to hide its memory).
 */
export function mayReceiveUncleared(t: Task): boolean {
  const c = t.cred;
  return t.dumpable && c.uid === c.euid && c.gid === c.egid;
}
