// Linux errno values (asm-generic/errno-base.h, errno.h). Syscalls return -errno.

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EXDEV = 18;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const EFBIG = 27;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EPIPE = 32;
export const ERANGE = 34;
export const EDEADLK = 35;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const ELOOP = 40;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;

const NAMES: Record<number, string> = {
  [EPERM]: "EPERM", [ENOENT]: "ENOENT", [ESRCH]: "ESRCH", [EINTR]: "EINTR", [EIO]: "EIO",
  [E2BIG]: "E2BIG", [ENOEXEC]: "ENOEXEC", [EBADF]: "EBADF", [ECHILD]: "ECHILD",
  [EAGAIN]: "EAGAIN", [ENOMEM]: "ENOMEM", [EACCES]: "EACCES", [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY", [EEXIST]: "EEXIST", [EXDEV]: "EXDEV", [ENODEV]: "ENODEV",
  [ENOTDIR]: "ENOTDIR", [EISDIR]: "EISDIR", [EINVAL]: "EINVAL", [ENFILE]: "ENFILE",
  [EMFILE]: "EMFILE", [ENOTTY]: "ENOTTY", [EFBIG]: "EFBIG", [ENOSPC]: "ENOSPC",
  [ESPIPE]: "ESPIPE", [EROFS]: "EROFS", [EPIPE]: "EPIPE", [ERANGE]: "ERANGE", [EDEADLK]: "EDEADLK",
  [ENAMETOOLONG]: "ENAMETOOLONG", [ENOSYS]: "ENOSYS", [ENOTEMPTY]: "ENOTEMPTY",
  [ELOOP]: "ELOOP", [EOVERFLOW]: "EOVERFLOW", [EOPNOTSUPP]: "EOPNOTSUPP",
};

const MESSAGES: Record<number, string> = {
  [EPERM]: "Operation not permitted", [ENOENT]: "No such file or directory",
  [ESRCH]: "No such process", [EINTR]: "Interrupted system call", [EIO]: "Input/output error",
  [E2BIG]: "Argument list too long", [ENOEXEC]: "Exec format error",
  [EBADF]: "Bad file descriptor", [ECHILD]: "No child processes",
  [EAGAIN]: "Resource temporarily unavailable", [ENOMEM]: "Cannot allocate memory",
  [EACCES]: "Permission denied", [EFAULT]: "Bad address", [EBUSY]: "Device or resource busy",
  [EEXIST]: "File exists", [EXDEV]: "Invalid cross-device link", [ENODEV]: "No such device",
  [ENOTDIR]: "Not a directory", [EISDIR]: "Is a directory", [EINVAL]: "Invalid argument",
  [ENFILE]: "Too many open files in system", [EMFILE]: "Too many open files",
  [ENOTTY]: "Inappropriate ioctl for device", [EFBIG]: "File too large",
  [ENOSPC]: "No space left on device", [ESPIPE]: "Illegal seek",
  [EROFS]: "Read-only file system", [EPIPE]: "Broken pipe",
  [ERANGE]: "Numerical result out of range", [EDEADLK]: "Resource deadlock avoided", [ENAMETOOLONG]: "File name too long",
  [ENOSYS]: "Function not implemented", [ENOTEMPTY]: "Directory not empty",
  [ELOOP]: "Too many levels of symbolic links",
  [EOVERFLOW]: "Value too large for defined data type", [EOPNOTSUPP]: "Operation not supported",
};

export function errnoName(e: number): string {
  return NAMES[e] ?? `E${e}`;
}

/** strerror() text, as glibc prints it. */
export function strerror(e: number): string {
  return MESSAGES[e] ?? `Unknown error ${e}`;
}
