// A task: the unit the kernel schedules and charges (Linux task_struct).

import { Counters } from "./cost/events.ts";
import type { Mm } from "./mm.ts";

export interface Cred {
  uid: number;
  euid: number;
  suid: number;
  gid: number;
  egid: number;
  sgid: number;
}

export function credFor(uid: number, gid = uid): Cred {
  return { uid, euid: uid, suid: uid, gid, egid: gid, sgid: gid };
}

/**
 * The owner tag frames written by this credential receive. The effective uid
 * is the identity that reads and writes memory, so a setuid-root program's
 * pages belong to root even when a user ran it.
 */
export function credTag(c: Cred): number {
  return c.euid;
}

export class Task {
  readonly counters = new Counters();
  /** The user symbol the task is executing; user events are charged to it. */
  sym = 0;

  constructor(
    readonly pid: number,
    public comm: string,
    public cred: Cred,
    public mm: Mm | null,
  ) {}
}
