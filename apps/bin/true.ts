// /bin/true: do nothing, successfully (arguments are ignored).

import type { Libc } from "../../libc/libc.ts";

export default function main(_argv: string[], _envp: string[], _libc: Libc): number {
  return 0;
}
