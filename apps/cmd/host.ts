// The host side of a run: where console output goes, the environment the
// first process gets (the nozero command's own, so MALLOC_NOZERO=1 travels),
// and host files lent to the machine.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { ConsoleSink } from "../../kernel/console.ts";
import type { MachineProfile } from "../../kernel/cost/machines.ts";
import type { HostSource } from "../../kernel/vfs/inode.ts";
import { resolveMachine } from "../machine.ts";
import { UsageError } from "./flags.ts";

export function hostConsole(): ConsoleSink {
  return {
    write(stream, data) {
      (stream === "stdout" ? process.stdout : process.stderr).write(data);
    },
  };
}

/** The host environment as NAME=value strings, with /bin on PATH. */
export function hostEnv(): string[] {
  const env = Object.entries(process.env)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .map(([k, v]) => `${k}=${v}`);
  const i = env.findIndex((e) => e.startsWith("PATH="));
  if (i < 0) env.push("PATH=/bin");
  else if (!env[i].split(/[=:]/).includes("/bin")) env[i] += ":/bin";
  return env;
}

/** The --machine flag: a profile name or a calibration file; a bad one is a usage error. */
export function machineFlag(v: string | undefined): MachineProfile {
  try {
    return resolveMachine(v ?? "host");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A host file as a read-only file of the emulated machine, read on demand (pread): none of it is copied in. */
export class HostFile implements HostSource {
  readonly size: number;
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, "r");
    this.size = fstatSync(this.fd).size;
  }

  readAt(pos: number, dst: Uint8Array): number {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    closeSync(this.fd);
  }
}
