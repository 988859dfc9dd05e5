// cc1, the C compiler proper (apps/toolchain/cc1): its diagnostics for bad
// input (exact: gcc 12's wording and locations), its assembly (well formed;
// and, through as, ld and nzx, programs that behave as the gcc-compiled ones
// do), its robustness on garbage, and its memory behaviour (GC quires by mmap,
// MAP_NOZERO exactly under MALLOC_NOZERO=1, malloc/calloc/realloc buffers).

import { beforeAll, describe, expect, it } from "vitest";
import { Machine, type RunResult } from "../../apps/machine.ts";
import { Kev } from "../../kernel/cost/events.ts";

const ENV = ["PATH=/bin", "HOME=/root"];

/** Run cc1 on one source (as /NAME.c, so diagnostics name NAME.c). */
function compile(m: Machine, name: string, src: string, args: string[] = [], env = ENV): RunResult {
  m.k.vfs.writeFile(`/${name}.c`, src);
  return m.run(["cc1", ...args, `${name}.c`, "-o", `${name}.s`], { env });
}

function readFile(m: Machine, path: string): string {
  return m.run(["cat", path]).stdout;
}

/**
 * Each of these is what gcc 12.2 prints for the same file (LC_ALL=C gcc
 * -fsyntax-only -fno-diagnostics-show-caret -fdiagnostics-plain-output), up
 * to where cc1 stops: lexer, preprocessor, parser and semantic errors.
 */
const DIAGNOSTICS: [string, string, string][] = [
  ["undecl", "int main() { return x; }\n", "undecl.c:1:21: error: 'x' undeclared (first use in this function)\n"],
  ["redef", "int x;\nint x = 1;\nint x = 2;\n", "redef.c:3:5: error: redefinition of 'x'\n"],
  ["fewargs", "int f(int a, int b) { return a; }\nint main() { return f(1); }\n", "fewargs.c:2:21: error: too few arguments to function 'f'\n"],
  ["manyargs", "int f(int a, int b) { return a; }\nint main() { return f(1,2,3); }\n", "manyargs.c:2:21: error: too many arguments to function 'f'\n"],
  ["ptrplus", "int main() { int *p, *q; return p + q; }\n", "ptrplus.c:1:35: error: invalid operands to binary + (have 'int *' and 'int *')\n"],
  ["lvalue", "int main() { 1 = 2; return 0; }\n", "lvalue.c:1:16: error: lvalue required as left operand of assignment\n"],
  ["unknowntype", "foo x;\n", "unknowntype.c:1:1: error: unknown type name 'foo'\n"],
  ["unknowntype2", "int main() { foo x; return 0; }\n", "unknowntype2.c:1:14: error: unknown type name 'foo'\n"],
  ["semi1", "int main() { int x = 1\n  return x; }\n", "semi1.c:2:3: error: expected ',' or ';' before 'return'\n"],
  ["semi2", "int main() { return 0 }\n", "semi2.c:1:22: error: expected ';' before '}' token\n"],
  ["incompat", "struct s { int a; };\nint main() { struct s v; int x; x = v; return 0; }\n", "incompat.c:2:37: error: incompatible types when assigning to type 'int' from type 'struct s'\n"],
  ["comment", "int main() { return 0; }\n/* oops\n", "comment.c:2:1: error: unterminated comment\n"],
  ["include", "#include \"nothere.h\"\nint x;\n", "include.c:1:10: fatal error: nothere.h: No such file or directory\ncompilation terminated.\n"],
  ["untermif", "#if 1\nint x;\n", "untermif.c:1: error: unterminated #if\n"],
  ["untermelse", "#ifdef FOO\nint x;\n#else\nint y;\n", "untermelse.c:1: error: unterminated #else\n"],
  ["errordir", "#error this is bad   stuff\n", "errordir.c:1:2: error: #error this is bad stuff\n"],
  ["addr", "int main() { int a; &3; return 0; }\n", "addr.c:1:21: error: lvalue required as unary '&' operand\n"],
  ["eofdecl", "int x\n", "eofdecl.c:1:1: error: expected '=', ',', ';', 'asm' or '__attribute__' at end of input\n"],
  ["macroargs", "#define f(a,b) a\nint x = f(1);\n", "macroargs.c:2:12: error: macro \"f\" requires 2 arguments, but only 1 given\n"],
  ["macroargs2", "#define f(a,b) a\nint x = f(1,2,3);\n", "macroargs2.c:2:16: error: macro \"f\" passed 3 arguments, but takes just 2\n"],
  ["redecl", "int main() { int a; int a; return 0; }\n", "redecl.c:1:25: error: redeclaration of 'a' with no linkage\n"],
  ["notfunc", "int main() { int x; x(); return 0;}\n", "notfunc.c:1:21: error: called object 'x' is not a function or function pointer\n"],
  ["eof1", "int main() {\n  return 0;\n", "eof1.c:2:3: error: expected declaration or statement at end of input\n"],
  ["eof2", "int main() {\n  return 0\n", "eof2.c:2:11: error: expected ';' at end of input\n"],
  ["rparen", "int main() { int x = (1 + 2  ; return x; }\n", "rparen.c:1:28: error: expected ')' before ';' token\n"],
  ["rbrack", "int main() { int a[3]; return a[1  ; }\n", "rbrack.c:1:34: error: expected ']' before ';' token\n"],
  ["ifparen", "int main() { if (1  { } return 0; }\n", "ifparen.c:1:19: error: expected ')' before '{' token\n"],
  ["member1", "int main() { int x; return x.y; }\n", "member1.c:1:29: error: request for member 'y' in something not a structure or union\n"],
  ["member2", "struct s {int a;}; int main() { struct s v; return v.b; }\n", "member2.c:1:53: error: 'struct s' has no member named 'b'\n"],
  ["arrow", "struct s {int a;}; int main() { struct s v; return v->a; }\n", "arrow.c:1:53: error: invalid type argument of '->' (have 'struct s')\n"],
  ["deref", "int main() { int x; return *x; }\n", "deref.c:1:28: error: invalid type argument of unary '*' (have 'int')\n"],
  ["subscript", "int main() { int x; return x[1]; }\n", "subscript.c:1:29: error: subscripted value is neither array nor pointer nor vector\n"],
  ["break", "int main() { break; }\n", "break.c:1:14: error: break statement not within loop or switch\n"],
  ["continue", "int main() { continue; }\n", "continue.c:1:14: error: continue statement not within a loop\n"],
  ["case", "int main() { case 1: ; }\n", "case.c:1:14: error: case label not within a switch statement\n"],
  ["dupcase", "int main() { int x; switch(x){case 1: case 1:;} return 0;}\n", "dupcase.c:1:39: error: duplicate case value\n"],
  ["conflict", "int f(void); int f(int); \n", "conflict.c:1:18: error: conflicting types for 'f'; have 'int(int)'\n"],
  ["fnredef", "int f(void) {return 0;} int f(void) {return 1;}\n", "fnredef.c:1:29: error: redefinition of 'f'\n"],
  ["kind", "typedef int t; int t;\n", "kind.c:1:20: error: 't' redeclared as different kind of symbol\n"],
  ["stray", "int main() { @ }\n", "stray.c:1:14: error: stray '@' in program\n"],
  ["octal", "int main() { return 08; }\n", "octal.c:1:21: error: invalid digit \"8\" in octal constant\n"],
  ["suffix", "int main() { return 12abc; }\n", "suffix.c:1:21: error: invalid suffix \"abc\" on integer constant\n"],
  ["sizeofinc", "int main() { return sizeof(struct nope); }\n", "sizeofinc.c:1:28: error: invalid application of 'sizeof' to incomplete type 'struct nope'\n"],
  ["storage", "struct s; struct s v;\n", "storage.c:1:20: error: storage size of 'v' isn't known\n"],
  ["voidval", "void f(void); int main() { int x = f(); return 0; }\n", "voidval.c:1:36: error: void value not ignored as it ought to be\n"],
  ["scalar", "int main() { struct {int a;} s; if (s) return 1; return 0; }\n", "scalar.c:1:37: error: used struct type value where scalar is required\n"],
  ["ifplus", "#if 1 +\n#endif\n", "ifplus.c:1:8: error: operator '+' has no right operand\n"],
  ["ifempty", "#if\n#endif\n", "ifempty.c:1:4: error: #if with no expression\n"],
  ["ifrparen", "#if (1\n#endif\n", "ifrparen.c:1:5: error: missing ')' in expression\n"],
  ["ifbinop", "#if 1 2\n#endif\n", "ifbinop.c:1:7: error: missing binary operator before token \"2\"\n"],
  ["baddir", "#foo\n", "baddir.c:1:2: error: invalid preprocessing directive #foo\n"],
  ["endif", "#endif\n", "endif.c:1:2: error: #endif without #if\n"],
  ["else", "#else\n", "else.c:1:2: error: #else without #if\n"],
  ["ifdiv", "#if 1/0\n#endif\n", "ifdiv.c:1:6: error: division by zero in #if\n"],
  ["argincompat", "struct s {int a;}; int f(int x); int main() { struct s v; return f(v); }\n", "argincompat.c:1:68: error: incompatible type for argument 1 of 'f'\n"],
  ["retincompat", "struct s {int a;}; int main() { struct s v; return v; }\n", "retincompat.c:1:52: error: incompatible types when returning type 'struct s' but 'int' was expected\n"],
  ["structredef", "struct s {int a;}; struct s {int b;};\n", "structredef.c:1:27: error: redefinition of 'struct s'\n"],
  ["dupmember", "struct s {int a; int a;};\n", "dupmember.c:1:22: error: duplicate member 'a'\n"],
  ["conflictvar", "int x; char x;\n", "conflictvar.c:1:13: error: conflicting types for 'x'; have 'char'\n"],
  ["arrayassign", "int main() { int a[2]; int b[2]; a = b; }\n", "arrayassign.c:1:36: error: assignment to expression with array type\n"],
  ["voidptr", "int main() { void *p; return *p; }\n", "voidptr.c:1:30: error: void value not ignored as it ought to be\n"],
  ["postinc", "int main() { int x; x++ ++; }\n", "postinc.c:1:25: error: lvalue required as increment operand\n"],
  ["unaryminus", "int main() { -\"a\"; }\n", "unaryminus.c:1:14: error: wrong type argument to unary minus\n"],
  ["incstruct", "struct s {int a;}; int main() { struct s v; v++; return 0; }\n", "incstruct.c:1:46: error: wrong type argument to increment\n"],
  ["negstruct", "struct s {int a;}; int main() { struct s v; return -v; }\n", "negstruct.c:1:52: error: wrong type argument to unary minus\n"],
  ["arraysize", "int main() { int a[-1]; }\n", "arraysize.c:1:18: error: size of array 'a' is negative\n"],
  ["voidvar", "int main() { void v; }\n", "voidvar.c:1:19: error: variable or field 'v' declared void\n"],
  ["retarray", "int f()[3];\n", "retarray.c:1:5: error: 'f' declared as function returning an array\n"],
  ["toomany", "int f(void) { return 1; }\nint main() { return f(2); }\n", "toomany.c:2:21: error: too many arguments to function 'f'\n"],
  ["notconst", "int x = 1; int y = x;\n", "notconst.c:1:20: error: initializer element is not constant\n"],
  ["modstruct", "struct s {int a;} g; int main() { return g % 2; }\n", "modstruct.c:1:44: error: invalid operands to binary % (have 'struct s' and 'int')\n"],
  ["ptrmul", "int main() { int *p; return p * 2; }\n", "ptrmul.c:1:31: error: invalid operands to binary * (have 'int *' and 'int')\n"],
  ["callarray", "int main() { int a[2]; return a(); }\n", "callarray.c:1:31: error: called object 'a' is not a function or function pointer\n"],
  ["undefstruct", "int main() { struct s *p; return p->x; }\n", "undefstruct.c:1:35: error: invalid use of undefined type 'struct s'\n"],
  ["signedunsigned", "signed unsigned int x;\n", "signedunsigned.c:1:8: error: both 'signed' and 'unsigned' in declaration specifiers\n"],
  ["intint", "int int x;\n", "intint.c:1:5: error: two or more data types in declaration specifiers\n"],
  ["charlong", "char long x;\n", "charlong.c:1:6: error: both 'long' and 'char' in declaration specifiers\n"],
  ["initstruct", "struct s {int a;} v; int x = v;\n", "initstruct.c:1:30: error: incompatible types when initializing type 'int' using type 'struct s'\n"],
  ["condmismatch", "struct s {int a;} v; int main() { return 1 ? v : 2; }\n", "condmismatch.c:1:48: error: type mismatch in conditional expression\n"],
  ["subscriptint", "int main() { int a[2]; return a[a]; }\n", "subscriptint.c:1:32: error: array subscript is not an integer\n"],
  ["backslash", "int main() { \\ }\n", "backslash.c:1:14: error: stray '\\' in program\n"],
  ["missingexpr", "int main() { int x = 1; return x(; }\n", "missingexpr.c:1:34: error: expected expression before ';' token\n"],
  ["chr", "int main() { return 1 'a'; }\n", "chr.c:1:22: error: expected ';' before 'a'\n"],
  ["strtok", "int main() { return 1 \"s\"; }\n", "strtok.c:1:22: error: expected ';' before string constant\n"],
  ["plussemi", "int main() { int x; return x +; }\n", "plussemi.c:1:31: error: expected expression before ';' token\n"],
  ["dotsemi", "struct s { int a; } ; int main() { struct s v; return v.; }\n", "dotsemi.c:1:57: error: expected identifier before ';' token\n"],
  ["scalarinit", "int a[2] = 5;\n", "scalarinit.c:1:12: error: invalid initializer\n"],
  ["arraymissing", "int main() { int a[] ; return 0; }\n", "arraymissing.c:1:18: error: array size missing in 'a'\n"],
  ["dollar", "int main() { int x = 5 $ 3; }\n", "dollar.c:1:24: error: expected ',' or ';' before '$'\n"],
  ["externinit", "int main() { extern int y = 3; return 0; }\n", "externinit.c:1:25: error: 'y' has both 'extern' and initializer\n"],
  ["num", "5;\n", "num.c:1:1: error: expected identifier or '(' before numeric constant\n"],
  ["multidefault", "int main(void) { switch (1) { default: ; default: ; } return 0; }\n", "multidefault.c:1:42: error: multiple default labels in one switch\n"],
  ["switchptr", "int main(void) { struct s *p; switch (p) { } return 0; }\n", "switchptr.c:1:39: error: switch quantity not an integer\n"],
  ["casevar", "int main(void) { int x; switch (x) { case x: ; } return 0; }\n", "casevar.c:1:38: error: case label does not reduce to an integer constant\n"],
  ["enumundecl", "enum e { A = 1, B = A + x };\n", "enumundecl.c:1:25: error: 'x' undeclared here (not in a function)\n"],
  ["paramredecl", "int f(int);\nint f(int x) { int x; return 0; }\n", "paramredecl.c:2:20: error: 'x' redeclared as different kind of symbol\n"],
  ["whileparen", "int main() { while  1) {} return 0; }\n", "whileparen.c:1:21: error: expected '(' before numeric constant\n"],
  ["colon", "int main() { int x = 1 ? 2  3; return 0; }\n", "colon.c:1:27: error: expected ':' before numeric constant\n"],
  ["structsemi", "struct s { int a  int b; };\n", "structsemi.c:1:19: error: expected ':', ',', ';', '}' or '__attribute__' before 'int'\n"],
  ["paramsemi", "int f(int a int b) { return 0; }\n", "paramsemi.c:1:13: error: expected ';', ',' or ')' before 'int'\n"],
  ["sizeoftype", "int main() { return sizeof int; }\n", "sizeoftype.c:1:28: error: expected expression before 'int'\n"],
  ["param", "int f( { }\n", "param.c:1:8: error: expected declaration specifiers or '...' before '{' token\n"],
  ["castparen", "int main() { int x; x = (int  3; }\n", "castparen.c:1:29: error: expected ')' before numeric constant\n"],
  ["untermstr", "int main() { char *s = \"abc;\n return 0; }\n", "untermstr.c:1:24: error: missing terminating \" character\n"],
  ["untermchr", "int main() { char c = 'a;\n return 0; }\n", "untermchr.c:1:23: error: missing terminating ' character\n"],
  ["emptychar", "int main() { return ''; }\n", "emptychar.c:1:21: error: empty character constant\n"],
  ["nested", "int main() { int x = ((((1)))) + ; }\n", "nested.c:1:34: error: expected expression before ';' token\n"],
];

/** Where cc1 deliberately differs from gcc 12 (the 32-bit subset, its limits). */
const DEVIATIONS: [string, string, string][] = [
  // gcc 12 warns; gcc 14 and cc1 make it an error
  ["implicit", "int main() { foo(1); return 0; }\n", "implicit.c:1:14: error: implicit declaration of function 'foo'\n"],
  // no 64-bit types: gcc makes it a long long (with a warning)
  ["huge", "int x = 99999999999999999999999;\n", "huge.c:1:9: error: integer constant is too large for its type\n"],
  ["float", "double d;\n", "float.c:1:1: sorry, unimplemented: floating-point types\n"],
  ["floatcst", "int x = 1.5;\n", "floatcst.c:1:9: error: floating-point constants are not supported\n"],
  ["longlong", "long long x;\n", "longlong.c:1:6: sorry, unimplemented: 'long long' (the subset's long is 32 bits)\n"],
  ["goto", "int main() { goto out; }\n", "goto.c:1:14: error: sorry, unimplemented: 'goto'\n"],
  ["structarg", "struct s { int a; };\nint f(struct s v) { return v.a; }\n", "structarg.c:2:16: sorry, unimplemented: passing a struct or union by value\n"],
  ["variadic", "#define f(...) 1\n", "variadic.c:1:11: error: variadic macros are not supported\n"],
  ["parens", "int x = " + "(".repeat(300) + "1" + ")".repeat(300) + ";\n", "parens.c:1:265: fatal error: bracket nesting level exceeded maximum of 256\ncompilation terminated.\n"],
  ["noinput", "", ""],
];

describe("cc1 diagnostics", () => {
  const m = new Machine({ memMiB: 64 });

  it.each(DIAGNOSTICS)("%s: gcc's message, exit 1", (name, src, expected) => {
    const r = compile(m, name, src);
    expect(r.stderr).toBe(expected);
    expect(r.exitCode).toBe(1);
    expect(r.signal).toBe(0);
  });

  it.each(DEVIATIONS.filter((d) => d[0] !== "noinput"))("%s: cc1's own message, exit 1", (name, src, expected) => {
    const r = compile(m, name, src);
    expect(r.stderr).toBe(expected);
    expect(r.exitCode).toBe(1);
  });

  it("covers each phase: lexer, preprocessor, parser and semantic errors", () => {
    const names = new Set(DIAGNOSTICS.map((d) => d[0]));
    for (const n of ["comment", "untermstr", "stray", "octal", "suffix"]) expect(names).toContain(n); // lexer
    for (const n of ["include", "untermif", "errordir", "macroargs", "ifdiv", "baddir"]) expect(names).toContain(n); // cpp
    for (const n of ["semi1", "semi2", "rparen", "eof1", "unknowntype"]) expect(names).toContain(n); // parser
    for (const n of ["undecl", "redef", "fewargs", "ptrplus", "lvalue", "incompat"]) expect(names).toContain(n); // sema
    expect(DIAGNOSTICS.length).toBeGreaterThanOrEqual(15);
  });

  it("command-line errors: no input, missing file, bad option", () => {
    const none = m.run(["cc1"]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("cc1: fatal error: no input files\ncompilation terminated.\n");
    const missing = m.run(["cc1", "nosuch.c", "-o", "nosuch.s"]);
    expect(missing.stderr).toBe("cc1: fatal error: nosuch.c: No such file or directory\ncompilation terminated.\n");
    expect(missing.exitCode).toBe(1);
    const bad = m.run(["cc1", "-Zbogus", "x.c"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("cc1: error: unrecognized command-line option '-Zbogus'");
  });

  it("no output file is written after an error", () => {
    compile(m, "noout", "int main() { return y; }\n");
    expect(m.run(["cat", "noout.s"]).exitCode).toBe(1);
  });

  it("several semantic errors are reported, up to the first that stops the phase", () => {
    const r = compile(m, "multi", "int main() { int *p; p = p * 2; return q + r; }\n");
    expect(r.stderr).toBe(
      "multi.c:1:28: error: invalid operands to binary * (have 'int *' and 'int')\n" +
        "multi.c:1:40: error: 'q' undeclared (first use in this function)\n" +
        "multi.c:1:44: error: 'r' undeclared (first use in this function)\n",
    );
    expect(r.exitCode).toBe(1);
  });
});

describe("cc1 on garbage", () => {
  const m = new Machine({ memMiB: 128 });
  const DIAG = /^(\S+:\d+(:\d+)?: (error|fatal error|sorry, unimplemented): .*|compilation terminated\.|cc1: .*)$/;

  function soup(seed: number): string {
    const frags = ["int", "char", "(", ")", "{", "}", "[", "]", ";", ",", "x", "f", "=", "+", "*", "&", "->", ".", "1", "0x", "'", '"', "#define", "#if", "#endif", "\n", "struct", "s", "return", "if", "else", "while", "for", "switch", "case", ":", "?", "sizeof", "typedef", "enum", "/*", "*/", "//", "\\", "##", "#", "...", "unsigned", "static", "void", "-", "!", "<<", ">>=", "99999999999", "'a'", '"str"', "@", "\t", "\x80", "\0"];
    let s = "";
    let state = seed;
    const n = 1 + (seed % 50);
    for (let j = 0; j < n; j++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      s += frags[(state >>> 8) % frags.length] + ((state >>> 4) & 1 ? " " : "");
    }
    return s;
  }

  const INPUTS: [string, string][] = [
    ["deep parentheses", "int x = " + "(".repeat(5000) + "1" + ")".repeat(5000) + ";\n"],
    ["deep braces", "int main() " + "{".repeat(3000) + "}".repeat(3000) + "\n"],
    ["deep unary", "int x = " + "-".repeat(20000) + "1;\n"],
    ["long operator chain", "int main() { int a = 1; return " + "a+".repeat(30000) + "a; }\n"],
    ["deep if", "int main() { int a = 1; " + "if (a) ".repeat(3000) + "a = 2; return a; }\n"],
    ["deep declarator", "int " + "(".repeat(3000) + "x" + ")".repeat(3000) + ";\n"],
    ["huge decimal", "int x = " + "9".repeat(10000) + ";\n"],
    ["huge hex", "int x = 0x" + "f".repeat(10000) + ";\n"],
    ["deep #if expression", "#if " + "(".repeat(3000) + "1" + ")".repeat(3000) + "\n#endif\n"],
    ["nested macro arguments", "#define f(x) x\nint y = " + "f(".repeat(1000) + "1" + ")".repeat(1000) + ";\n"],
    ["recursive include", '#include "garbage.c"\n'],
    ["binary", String.fromCharCode(...Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) & 0xff))],
    ["unterminated everything", '#if 1\nint main() { char *s = "abc'],
  ];
  for (let i = 1; i <= 60; i++) INPUTS.push([`token soup ${i}`, soup(i * 7 + 3)]);

  it.each(INPUTS)("%s: exit 0 or 1, only diagnostics on stderr", (_name, src) => {
    const r = compile(m, "garbage", src);
    expect(r.signal).toBe(0);
    expect([0, 1]).toContain(r.exitCode);
    for (const line of r.stderr.split("\n").filter(Boolean)) expect(line).toMatch(DIAG);
    if (r.exitCode === 1) expect(r.stderr).not.toBe("");
  });
});

/** C99 6.10.3.5's examples 3, 4, 5 and 7, and what gcc -E -P makes of them (white space removed). */
const STANDARD_MACROS: [string, string][] = [
  ["#define x 3\n#define f(a) f(x * (a))\n#undef x\n#define x 2\n#define g f\n#define z z[0]\n#define h g(~\n#define m(a) a(w)\n#define w 0,1\n#define t(a) a\n#define p() int\n#define q(x) x\n#define r(x,y) x ## y\n#define str(x) # x\nf(y+1) + f(f(z)) % t(t(g)(0) + t)(1);\ng(x+(3,4)-w) | h 5) & m\n(f)^m(m);\np() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };\nchar c[2][6] = { str(hello), str() };\n", "f(2*(y+1))+f(2*(f(2*(z[0]))))%f(2*(0))+t(1);f(2*(2+(3,4)-0,1))|f(2*(~5))&f(2*(0,1))^m(0,1);inti[]={1,23,4,5,};charc[2][6]={\"hello\",\"\"};"],
  ["#define str(s) # s\n#define xstr(s) str(s)\n#define debug(s, t) printf(\"x\" # s \"= %d, x\" # t \"= %s\", \\\n x ## s, x ## t)\n#define INCFILE(n) vers ## n\n#define glue(a, b) a ## b\n#define xglue(a, b) glue(a, b)\n#define HIGHLOW \"hello\"\n#define LOW LOW \", world\"\ndebug(1, 2);\nfputs(str(strncmp(\"abc\\0d\", \"abc\", '\\4') // this goes away\n == 0) str(: @\\n), s);\nxstr(INCFILE(2).h)\nglue(HIGH, LOW);\nxglue(HIGH, LOW)\n#define hash_hash # ## #\n#define mkstr(a) # a\n#define in_between(a) mkstr(a)\n#define join(c, d) in_between(c hash_hash d)\nchar p[] = join(x, y);\n#define OBJ_LIKE (1-1)\n#define OBJ_LIKE /* white space */ (1-1) /* other */\n", "printf(\"x\"\"1\"\"=%d,x\"\"2\"\"=%s\",x1,x2);fputs(\"strncmp(\\\"abc\\\\0d\\\",\\\"abc\\\",'\\\\4')==0\"\":@\\n\",s);\"vers2.h\"\"hello\";\"hello\"\",world\"charp[]=\"x##y\";"],
  ["#define FUNC_LIKE(a) ( a )\n#define FUNC_LIKE( a )( /* note the white space */ \\\n a /* other stuff on this line\n */ )\n#define NIL(xxx) xxx\n#define G_0(arg) NIL(G_1)(arg)\n#define G_1(arg) NIL(arg)\nG_0(42)\n#define AA BB\n#define BB AA\nAA BB\n#define EMPTY\n#define LPAREN (\n#define RPAREN )\n#define F(x, y) x + y\n", "42AABB"],
];

describe("cc1 -E", () => {
  const m = new Machine({ memMiB: 64 });

  it.each(STANDARD_MACROS.map((x, i) => [i + 1, ...x] as const))("the standard's macro examples (%i) expand as gcc's", (_i, src, expected) => {
    m.k.vfs.writeFile("/pp.c", src);
    const r = m.run(["cc1", "-E", "pp.c"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.replace(/\s+/g, "")).toBe(expected);
  });

  it("stringizing keeps the white space between tokens (and a macro's leading space)", () => {
    m.k.vfs.writeFile("/pp.c", "#define s(x) #x\n#define xs(x) s(x)\n#define E\n#define V 1 +  2\nxs(a   b E c V)\n");
    expect(m.run(["cc1", "-E", "pp.c"]).stdout).toBe('"a b c 1 + 2"\n');
  });
});

/** A little C library for the test programs (write(2) through __syscall). */
const PRELUDE = "#ifdef __NOZERO__\nstatic int sys_write(int fd, char *p, int n) { return __syscall(4, fd, p, n); }\n#else\nlong write(int fd, const void *p, unsigned long n);\nstatic int sys_write(int fd, char *p, int n) { return write(fd, p, n); }\n#endif\nstatic int my_strlen(char *s) { char *p = s; while (*p) p++; return p - s; }\nstatic void put(char *s) { sys_write(1, s, my_strlen(s)); }\nstatic void putnum(int v) {\n  char buf[16]; char *p = buf + 15; unsigned u = v < 0 ? -(unsigned)v : v;\n  *p = 0;\n  do { *--p = '0' + u % 10; u /= 10; } while (u != 0);\n  if (v < 0) *--p = '-';\n  put(p);\n}\nstatic void putu(unsigned u) { char buf[16]; int i = 15; buf[i] = 0; do { buf[--i] = \"0123456789abcdef\"[u & 15]; u >>= 4; } while (u); put(\"0x\"); put(buf + i); }\nstatic void nl(void) { put(\"\\n\"); }\n";
const CONFIG_H = "#ifndef CONFIG_H\n#define CONFIG_H\n#define NAMED_VALUE 123\n#include \"config.h\"\n#endif\n";

/** Programs and what the same source compiled by gcc 12 (x86-64, with write(2)) prints and returns. */
const PROGRAMS: { name: string; src: string; stdout: string; exit: number; args?: string[] }[] = [
  { name: "recursion", stdout: "6765\n9\n0x1c8cfc00\n21\n11\n", exit: 55,
    src: "#include \"prelude.h\"\nint fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nint ack(int m, int n) { if (m == 0) return n + 1; if (n == 0) return ack(m - 1, 1); return ack(m - 1, ack(m, n - 1)); }\nunsigned fact(unsigned n) { return n <= 1 ? 1 : n * fact(n - 1); }\nint gcd(int a, int b) { return b ? gcd(b, a % b) : a; }\nint even(int n);\nint odd(int n) { return n == 0 ? 0 : even(n - 1); }\nint even(int n) { return n == 0 ? 1 : odd(n - 1); }\nint main(void) {\n  putnum(fib(20)); nl();\n  putnum(ack(2, 3)); nl();\n  putu(fact(12)); nl();\n  putnum(gcd(1071, 462)); nl();\n  putnum(even(10)); putnum(odd(7)); nl();\n  return fib(10);\n}\n" },
  { name: "pointers", stdout: "21\n4304040\n90\nretniop\n2099\n111\n", exit: 0,
    src: "#include \"prelude.h\"\nvoid swap(int *a, int *b) { int t = *a; *a = *b; *b = t; }\nvoid reverse(char *s) { char *e = s; while (*e) e++; for (e--; s < e; s++, e--) { char t = *s; *s = *e; *e = t; } }\nint sum(int *p, int n) { int s = 0; while (n--) s += *p++; return s; }\nvoid set(int **pp, int *v) { *pp = v; }\nint main(void) {\n  int x = 1, y = 2, a[5] = { 10, 20, 30, 40, 50 };\n  int *p = a, *q = &a[4], *r;\n  char buf[16];\n  char *src = \"pointer\";\n  int i;\n  swap(&x, &y); putnum(x); putnum(y); nl();\n  putnum(q - p); putnum(*(p + 2)); putnum(p[3]); putnum(*--q); nl();\n  putnum(sum(a + 1, 3)); nl();\n  for (i = 0; src[i]; i++) buf[i] = src[i];\n  buf[i] = 0;\n  reverse(buf); put(buf); nl();\n  set(&r, &a[1]); putnum(*r); *r = 99; putnum(a[1]); nl();\n  putnum(p < q); putnum(p == a); putnum(q != 0); nl();\n  return 0;\n}\n" },
  { name: "arrays", stdout: "147\n258\n369\n-1 0 3 3 8 17 42 99 \nxyzabc\n332\n", exit: 0,
    src: "#include \"prelude.h\"\nint m[3][3] = { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } };\nint t[3][3];\nvoid bsort(int *a, int n) { int i, j; for (i = 0; i < n; i++) for (j = 0; j + 1 < n - i; j++) if (a[j] > a[j + 1]) { int x = a[j]; a[j] = a[j + 1]; a[j + 1] = x; } }\nint main(void) {\n  int i, j, v[8] = { 42, -1, 17, 8, 0, 99, 3, 3 };\n  char grid[2][4] = { \"abc\", \"xyz\" };\n  for (i = 0; i < 3; i++) for (j = 0; j < 3; j++) t[j][i] = m[i][j];\n  for (i = 0; i < 3; i++) { for (j = 0; j < 3; j++) putnum(t[i][j]); nl(); }\n  bsort(v, 8);\n  for (i = 0; i < 8; i++) { putnum(v[i]); put(\" \"); } nl();\n  put(grid[1]); put(grid[0]); nl();\n  putnum(sizeof(m) / sizeof(m[0])); putnum(sizeof v); nl();\n  return v[7] - 99;\n}\n" },
  { name: "structs", stdout: "15 45 114\n9410\n41\n204\n", exit: 4,
    src: "#include \"prelude.h\"\nstruct vec { int x, y; };\nstruct rect { struct vec lo, hi; char tag; };\nstruct node { int val; struct node *next; };\nunion word { int i; unsigned char b[4]; };\nstruct node nodes[4];\nint area(struct rect *r) { return (r->hi.x - r->lo.x) * (r->hi.y - r->lo.y); }\nstruct node *push(struct node *head, struct node *n, int v) { n->val = v; n->next = head; return n; }\nint main(void) {\n  struct rect r, s;\n  struct node *head = 0, *p;\n  union word w;\n  int i;\n  r.lo.x = 1; r.lo.y = 2; r.hi.x = 4; r.hi.y = 7; r.tag = 'r';\n  s = r;\n  s.hi.x = 10;\n  putnum(area(&r)); put(\" \"); putnum(area(&s)); put(\" \"); putnum(s.tag); nl();\n  for (i = 0; i < 4; i++) head = push(head, &nodes[i], i * i);\n  for (p = head; p; p = p->next) putnum(p->val);\n  nl();\n  w.i = 0x01020304;\n  putnum(w.b[0]); putnum(w.b[3]); nl();\n  putnum(sizeof(struct rect)); putnum(sizeof(union word)); nl();\n  return head->next->val;\n}\n" },
  { name: "switch", stdout: "other vowel space digit vowel \n11 10 100 -1 11 10 200 -1 \n", exit: 1,
    src: "#include \"prelude.h\"\nchar *kind(int c) {\n  switch (c) {\n  case 'a': case 'e': case 'i': case 'o': case 'u': return \"vowel\";\n  case ' ': return \"space\";\n  default:\n    if (c >= '0' && c <= '9') return \"digit\";\n    return \"other\";\n  }\n}\nint classify(int n) {\n  int score = 0;\n  switch (n % 4) {\n  case 0: score += 1;\n  case 1: score += 10;\n    break;\n  case 2: { switch (n) { case 2: score = 100; break; default: score = 200; } break; }\n  default: score = -1;\n  }\n  return score;\n}\nint main(void) {\n  char *s = \"hi 4u\";\n  int i;\n  for (i = 0; s[i]; i++) { put(kind(s[i])); put(\" \"); }\n  nl();\n  for (i = 0; i < 8; i++) { putnum(classify(i)); put(\" \"); }\n  nl();\n  switch (3) { }\n  return classify(6) == 200;\n}\n" },
  { name: "loops", stdout: "25\n147\n109876\n86\n", exit: 201,
    src: "#include \"prelude.h\"\nint main(void) {\n  int i, j, n = 0, primes = 0;\n  for (i = 2; i < 100; i++) {\n    for (j = 2; j * j <= i; j++)\n      if (i % j == 0) break;\n    if (j * j > i) primes++;\n  }\n  putnum(primes); nl();\n  i = 0;\n  while (1) {\n    i++;\n    if (i % 3 == 0) continue;\n    if (i > 20) break;\n    n += i;\n  }\n  putnum(n); nl();\n  i = 10;\n  do putnum(i--); while (i > 5);\n  nl();\n  for (i = 0, j = 10; i < j; i += 2, j--) ;\n  putnum(i); putnum(j); nl();\n  for (;;) { if (++n > 200) break; }\n  return n & 0xff;\n}\n" },
  { name: "strings", stdout: "Hello, world\n1341000\nfirst\nsecond\tcol\nquote\"d\nback\\slash\nlocalCcopy\n242\n498\n100656539\n", exit: 0,
    src: "#include \"prelude.h\"\nchar greeting[] = \"Hello, \" \"world\";\nchar small[4] = \"abcdef\";\nchar padded[8] = \"ab\";\nchar *lines[] = { \"first\", \"second\\tcol\", \"quote\\\"d\", \"back\\\\slash\" };\nint count(char *s, char c) { int n = 0; for (; *s; s++) if (*s == c) n++; return n; }\nint main(void) {\n  char local[] = \"local copy\";\n  char part[3] = \"xyz\";\n  int i;\n  put(greeting); nl();\n  putnum(sizeof greeting); putnum(sizeof small); putnum(small[3]); putnum(padded[5]); nl();\n  for (i = 0; i < 4; i++) { put(lines[i]); nl(); }\n  local[5] = 'C';\n  put(local); nl();\n  putnum(part[0] + part[2]); nl();\n  putnum(count(\"mississippi\", 's')); putnum(\"abc\"[1]); nl();\n  putnum('\\n'); putnum('\\0'); putnum('\\x41'); putnum('\\101'); putnum('\\''); nl();\n  return sizeof(\"four\") - 5;\n}\n" },
  { name: "globals", stdout: "573\n220\ncfg57\n132333\n11\n", exit: 5,
    src: "#include \"prelude.h\"\nint counter;\nint initialized = 7;\nstatic int hidden = 3;\nint values[4] = { 1, 2 };\nint *pv = &values[1];\nstruct cfg { char *name; int level; int *slot; } config = { \"cfg\", 5, &initialized };\nextern int later;\nint bump(void) { static int calls; return ++calls * 10 + hidden; }\nint main(void) {\n  counter += 5;\n  putnum(counter); putnum(initialized); putnum(values[0] + values[1] + values[3]); nl();\n  putnum(*pv); *pv = 20; putnum(values[1]); nl();\n  put(config.name); putnum(config.level); putnum(*config.slot); nl();\n  putnum(bump()); putnum(bump()); putnum(bump()); nl();\n  putnum(later); nl();\n  return counter;\n}\nint later = 11;\n" },
  { name: "unsigned", stdout: "0xffffffff\n1110\n0xfffffff 0 0x3 -2\n4 -126 -32768 0\n44 255 4464\n0x0 1\n0xb2d05e00\n", exit: 15,
    src: "#include \"prelude.h\"\nint main(void) {\n  unsigned u = 0;\n  int s = -1;\n  unsigned char uc = 250;\n  signed char sc = 120;\n  short sh = 32767;\n  unsigned short us = 65535;\n  u = u - 1;\n  putu(u); nl();\n  putnum(u > 0); putnum(s < 0); putnum((unsigned)s > 100u); putnum(s < 1u); nl();\n  putu(u / 16); put(\" \"); putnum(s / 16); put(\" \"); putu(u % 7); put(\" \"); putnum(-17 % 5); nl();\n  uc += 10; sc += 10; sh += 1; us += 1;\n  putnum(uc); put(\" \"); putnum(sc); put(\" \"); putnum(sh); put(\" \"); putnum(us); nl();\n  putnum((char)300); put(\" \"); putnum((unsigned char)-1); put(\" \"); putnum((short)70000); nl();\n  putu(0x80000000u + 0x80000000u); put(\" \"); putnum(2147483647 + 1 < 0); nl();\n  putu(3000000000u); nl();\n  return (int)(u >> 28);\n}\n" },
  { name: "shifts", stdout: "-16 0xf000000 -16777216\n1073741824 0x80000000 12\n0x78 0x56 0x34 0x12 \n16\n-11\n", exit: 8,
    src: "#include \"prelude.h\"\nint main(void) {\n  int n = -256;\n  unsigned u = 0xf0000000u;\n  int i;\n  putnum(n >> 4); put(\" \"); putu(u >> 4); put(\" \"); putnum((int)u >> 4); nl();\n  putnum(1 << 30); put(\" \"); putu(1u << 31); put(\" \"); putnum(3 << 2); nl();\n  for (i = 0; i < 32; i += 8) { putu(0x12345678u >> i & 0xff); put(\" \"); }\n  nl();\n  u = 1; u <<= 5; u |= 1; u >>= 1; putnum(u); nl();\n  putnum(~0 >> 31); putnum(~0u >> 31); nl();\n  return 1 << 3;\n}\n" },
  { name: "funcptr", stdout: "1024\n7442\na! b! \n11\n", exit: 42,
    src: "#include \"prelude.h\"\ntypedef int (*binop)(int, int);\nint add(int a, int b) { return a + b; }\nint sub(int a, int b) { return a - b; }\nint mul(int a, int b) { return a * b; }\nbinop table[] = { add, sub, mul };\nbinop pick(int i) { return table[i % 3]; }\nint fold(int *v, int n, binop f, int init) { int i; for (i = 0; i < n; i++) init = f(init, v[i]); return init; }\nvoid each(char **s, void (*fn)(char *)) { while (*s) fn(*s++); }\nvoid shout(char *s) { put(s); put(\"! \"); }\nint main(void) {\n  int v[4] = { 1, 2, 3, 4 };\n  char *words[] = { \"a\", \"b\", 0 };\n  binop f = mul;\n  int (*g)(int, int) = &add;\n  putnum(fold(v, 4, add, 0)); putnum(fold(v, 4, mul, 1)); nl();\n  putnum(pick(4)(10, 3)); putnum((*g)(2, 2)); putnum(f(6, 7)); nl();\n  each(words, shout); nl();\n  putnum(table[2] == mul); putnum(pick(0) != sub); nl();\n  return g(20, 22);\n}\n" },
  { name: "preproc", stdout: "high\na + b 3 ((2) * (2))\n16742\n12329\n", exit: 2, args: ["-DLEVEL=3", "-DEXTRA=2"],
    src: "#include \"prelude.h\"\n#include \"config.h\"\n#define SQUARE(x) ((x) * (x))\n#define STR(x) #x\n#define XSTR(x) STR(x)\n#define GLUE(a, b) a##b\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n#define EMPTY\n#if defined(LEVEL) && LEVEL > 2\n#define MODE \"high\"\n#elif LEVEL == 2\n#define MODE \"two\"\n#else\n#define MODE \"low\"\n#endif\n#ifndef UNDEFINED_THING\nint flag = 1;\n#endif\n#ifdef __NOZERO__\nint native = 0;\n#else\nint native = 1;\n#endif\nint GLUE(var, 1) = 41;\nint main(void) {\n  put(MODE); nl();\n  put(STR(a + b)); put(\" \"); put(XSTR(LEVEL)); put(\" \"); put(XSTR(SQUARE(2))); nl();\n  putnum(SQUARE(3 + 1)); putnum(MAX(7, SQUARE(2))); putnum(GLUE(var, 1) + flag); nl();\n  putnum(NAMED_VALUE EMPTY); putnum(__LINE__); nl();\n#if 0\n  this is skipped 'even with quotes\n#endif\n  return native + (EXTRA);\n}\n" },
  { name: "misc", stdout: "1108\n612\n1\n23\n12113-1\n21\ndirect\n", exit: 7,
    src: "#include \"prelude.h\"\nenum color { RED, GREEN = 10, BLUE };\ntypedef struct { int id; enum color c; } thing;\nstatic int twice(int x) { return x + x; }\nint main(void) {\n  thing t;\n  int a = 5, b, c;\n  t.id = 3; t.c = BLUE;\n  putnum(t.c); putnum(RED); putnum(sizeof(thing)); nl();\n  b = (a++, a * 2);\n  putnum(a); putnum(b); nl();\n  c = a > 3 ? a < 10 ? 1 : 2 : 3;\n  putnum(c); nl();\n  a = 17; a += 3; a -= 5; a *= 2; a /= 3; a %= 7; a <<= 2; a >>= 1; a &= 15; a |= 16; a ^= 1;\n  putnum(a); nl();\n  putnum(twice(twice(3))); putnum(!0); putnum(!!42); putnum(-(-3)); putnum(~0); nl();\n  { int x = 1; { int x = 2; putnum(x); } putnum(x); } nl();\n#ifdef __NOZERO__\n  __syscall(4, 1, \"direct\\n\", 7);\n  __syscall(1, 7);\n#else\n  put(\"direct\\n\");\n  return 7;\n#endif\n  return 0;\n}\n" },
];

const INSN = /^\t(li|mov|addi|add|sub|mul|div|rem|divu|remu|and|or|xor|shl|shr|sar|seq|sne|slt|sle|sltu|sleu|neg|not|ld|ldh|ldhu|ldb|ldbu|st|sth|stb|jmp|jz|jnz|call|callr|ret|push|pop|enter|leave|sys)( .*)?$/;
const REG = "(r[0-7]|sp|fp)";
const SYM = "[A-Za-z_.$][\\w.$]*";
const IMM = "-?\\d+";
const MEM = `\\[${REG}([+-]\\d+)?\\]`;
const OPERANDS: Record<string, RegExp> = {
  li: new RegExp(`^${REG}, (${IMM}|${SYM}([+-]\\d+)?)$`),
  mov: new RegExp(`^${REG}, ${REG}$`),
  neg: new RegExp(`^${REG}, ${REG}$`),
  not: new RegExp(`^${REG}, ${REG}$`),
  addi: new RegExp(`^${REG}, ${REG}, ${IMM}$`),
  load: new RegExp(`^${REG}, ${MEM}$`),
  store: new RegExp(`^${MEM}, ${REG}$`),
  three: new RegExp(`^${REG}, ${REG}, ${REG}$`),
  jump: new RegExp(`^${SYM}$`),
  cjump: new RegExp(`^${REG}, ${SYM}$`),
  reg: new RegExp(`^${REG}$`),
  imm: new RegExp(`^${IMM}$`),
};

/** Check every line of an assembly file against the contract's syntax; every local label used is defined once. */
function checkAssembly(s: string): void {
  const defined = new Map<string, number>();
  const used = new Set<string>();
  for (const line of s.split("\n")) {
    if (line === "") continue;
    const label = /^([A-Za-z_.$][\w.$]*):$/.exec(line);
    if (label) {
      defined.set(label[1], (defined.get(label[1]) ?? 0) + 1);
      continue;
    }
    if (/^\t\.(text|data|bss)$/.test(line) || /^\t\.(globl) [A-Za-z_$][\w$]*$/.test(line) || /^\t\.(align|zero) \d+$/.test(line)) continue;
    if (/^\t\.comm [A-Za-z_$][\w$]*, \d+$/.test(line) || /^\t\.asci[iz] "([^"\\]|\\.)*"$/.test(line)) continue;
    const data = /^\t\.(word|half|byte) (.*)$/.exec(line);
    if (data) {
      expect(data[2]).toMatch(/^(-?\d+|[A-Za-z_.$][\w.$]*([+-]\d+)?)$/);
      const sym = /^(\.L\w+)/.exec(data[2]);
      if (sym) used.add(sym[1]);
      continue;
    }
    const m = INSN.exec(line);
    expect(m, line).not.toBeNull();
    const op = m![1];
    const args = (m![2] ?? "").trim();
    const kind = /^ld/.test(op) ? "load" : /^st/.test(op) ? "store" : op === "jmp" || op === "call" ? "jump" : op === "jz" || op === "jnz" ? "cjump"
      : op === "push" || op === "pop" || op === "callr" ? "reg" : op === "enter" ? "imm" : op === "ret" || op === "leave" || op === "sys" ? "" : OPERANDS[op] ? op : "three";
    if (kind === "") expect(args).toBe("");
    else expect(args, line).toMatch(OPERANDS[kind]);
    for (const l of args.matchAll(/\.L\w+/g)) used.add(l[0]);
  }
  for (const l of used) expect(defined.get(l), `label ${l}`).toBe(1);
  for (const [l, n] of defined) expect(n, `label ${l} defined once`).toBe(1);
}

describe("cc1 assembly", () => {
  const m = new Machine({ memMiB: 64 });
  beforeAll(() => m.k.vfs.writeFile("/prelude.h", PRELUDE));

  it.each(PROGRAMS.flatMap((p) => [[p.name, "-O0"], [p.name, "-O1"]]))("%s %s: well-formed NZ32 assembly", (name, o) => {
    const p = PROGRAMS.find((x) => x.name === name)!;
    m.k.vfs.writeFile("/config.h", CONFIG_H);
    const r = compile(m, name, p.src, [o, ...(p.args ?? [])]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const s = readFile(m, `${name}.s`);
    checkAssembly(s);
    // every function: a global label, a frame, and a return
    expect(s).toMatch(/\tenter \d+\n/);
    expect(s).toMatch(/\tleave\n\tret\n/);
  });

  it("-O1 makes smaller code than -O0 (peephole, dead code), same data", () => {
    const src = PROGRAMS.find((p) => p.name === "loops")!.src;
    compile(m, "o0", src, ["-O0"]);
    compile(m, "o1", src, ["-O1"]);
    const a = readFile(m, "o0.s"), b = readFile(m, "o1.s");
    expect(b.split("\n").length).toBeLessThan(a.split("\n").length * 0.85);
    expect(b).toMatch(/addi r0, r0, /);
  });

  it("folds constant expressions at every level", () => {
    compile(m, "fold", "int f(void) { return (3 * 4 + 1) << 2 | 1; }\nint a[2 + 3 * 4];\n");
    const s = readFile(m, "fold.s");
    expect(s).toContain("\tli r0, 53\n");
    expect(s).toContain("\t.comm a, 56\n");
  });

  it("the output is the same every time (deterministic)", () => {
    const src = PROGRAMS.find((p) => p.name === "structs")!.src;
    compile(m, "det1", src, ["-O1"]);
    compile(m, "det2", src, ["-O1"]);
    expect(readFile(m, "det1.s").replaceAll("det1", "X")).toBe(readFile(m, "det2.s").replaceAll("det2", "X"));
  });
});

describe("cc1 | as | ld | nzx", () => {
  const m = new Machine({ memMiB: 64 });
  beforeAll(() => {
    m.k.vfs.writeFile("/prelude.h", PRELUDE);
    m.k.vfs.writeFile("/config.h", CONFIG_H);
  });

  function build(name: string, src: string, args: string[]): string {
    let r = compile(m, name, src, args);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    r = m.run(["as", `${name}.s`, "-o", `${name}.o`]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    r = m.run(["ld", "-o", name, `${name}.o`]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    return `/${name}`;
  }

  it.each(PROGRAMS.flatMap((p) => [[p.name, "-O0"], [p.name, "-O1"]]))("%s %s: prints and returns what gcc's build does", (name, o) => {
    const p = PROGRAMS.find((x) => x.name === name)!;
    const exe = build(`${name}${o.slice(1)}`, p.src, [o, ...(p.args ?? [])]);
    const r = m.run([exe]);
    expect(r.stdout).toBe(p.stdout);
    expect(r.exitCode).toBe(p.exit);
  });

  it("-I and -D reach the preprocessor; #include searches -I dirs", () => {
    m.k.vfs.writeFile("/inc/answer.h", "#define ANSWER (VALUE * 2)\n");
    const exe = build("incl", "#include <answer.h>\nint main(void) { return ANSWER; }\n", ["-I/inc", "-DVALUE=21"]);
    expect(m.run([exe]).exitCode).toBe(42);
  });

  it("division by zero traps at run time (SIGFPE)", () => {
    const exe = build("divz", "int z;\nint main(void) { return 10 / z; }\n", []);
    const r = m.run([exe]);
    expect(r.signal).toBe(8);
  });
});

/** A kernel-ish source of about `lines` lines: a header of macros, types and inline helpers, then functions. */
function kernelish(nfuncs: number): { header: string; source: string } {
  const header = `#ifndef GEN_H
#define GEN_H
#define NR_ITEMS 64
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define ALIGN(x, a) (((x) + (a) - 1) & ~((a) - 1))
#define list_for_each(pos, head) for (pos = (head)->next; pos != (head); pos = pos->next)
typedef unsigned int u32;
struct list_head { struct list_head *next, *prev; };
struct page { u32 flags; int count; struct list_head lru; void *mapping; u32 index; };
struct zone { char name[16]; u32 free_pages; struct list_head free_list[4]; int lock; };
extern struct zone zones[3];
static void list_add(struct list_head *n, struct list_head *h) { n->next = h->next; n->prev = h; h->next->prev = n; h->next = n; }
#endif
`;
  let source = `#include "gen.h"\nstruct zone zones[3];\nstatic u32 stats[NR_ITEMS];\nstatic char *names[] = { "DMA", "Normal", "HighMem" };\n`;
  for (let i = 0; i < nfuncs; i++) {
    source += i % 2 === 0
      ? `
static u32 count_free_${i}(struct zone *z, int order)
{
\tstruct list_head *pos;
\tu32 n = 0;
\tint o;
\tfor (o = 0; o < MIN(order, 4); o++) {
\t\tlist_for_each(pos, &z->free_list[o]) {
\t\t\tn += 1u << o;
\t\t\tif (n > ${1000 + i})
\t\t\t\tbreak;
\t\t}
\t}
\tstats[${i} % NR_ITEMS] += n;
\treturn n + ALIGN(z->free_pages, 8);
}
`
      : `
void page_init_${i}(struct page *p, int n, char *tag)
{
\tint j;
\tstruct list_head head;
\thead.next = head.prev = &head;
\tfor (j = 0; j < n; j++) {
\t\tp[j].flags = (u32)j << 4 | ${i & 15};
\t\tp[j].count = tag[j % 8] == 'x' ? 2 : 1;
\t\tp[j].mapping = names[j % 3];
\t\tlist_add(&p[j].lru, &head);
\t}
\twhile (n-- > 0)
\t\tif (p[n].count-- == 0)
\t\t\tcontinue;
}
`;
  }
  return { header, source };
}

describe("cc1 memory", () => {
  const { header, source } = kernelish(24);

  function traced(env: string[], args: string[] = []): { r: RunResult; calls: string[]; asm: string } {
    const calls: string[] = [];
    const m = new Machine({ memMiB: 64, strace: (line) => calls.push(line) });
    m.k.vfs.writeFile("/src/gen.h", header);
    m.k.vfs.writeFile("/src/gen.c", source);
    const r = m.run(["cc1", ...args, "-I/src", "/src/gen.c", "-o", "/src/gen.s"], { env: [...ENV, ...env] });
    return { r, calls, asm: readFile(m, "/src/gen.s") };
  }

  it("the test file is a few hundred lines", () => {
    const lines = source.split("\n").length + header.split("\n").length;
    expect(lines).toBeGreaterThan(300);
    expect(lines).toBeLessThan(600);
  });

  it("maps a 1 MiB GGC quire with MAP_NOZERO exactly when MALLOC_NOZERO=1", () => {
    const QUIRE = "mmap2(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS";
    const on = traced(["MALLOC_NOZERO=1"]);
    expect(on.r.exitCode).toBe(0);
    expect(on.calls.filter((c) => c.startsWith(`${QUIRE}|MAP_NOZERO, -1, 0)`)).length).toBeGreaterThanOrEqual(1);
    expect(on.calls.filter((c) => c.startsWith(`${QUIRE}, -1, 0)`))).toEqual([]);
    const off = traced([]);
    expect(off.r.exitCode).toBe(0);
    expect(off.calls.filter((c) => c.startsWith(`${QUIRE}, -1, 0)`)).length).toBeGreaterThanOrEqual(1);
    expect(off.calls.filter((c) => c.includes("MAP_NOZERO"))).toEqual([]);
    const tunable = traced(["GLIBC_TUNABLES=glibc.malloc.nozero=1"]);
    expect(tunable.calls.filter((c) => c.startsWith(`${QUIRE}|MAP_NOZERO, -1, 0)`)).length).toBeGreaterThanOrEqual(1);
    // the same assembly in every mode
    expect(on.asm).toBe(off.asm);
    expect(tunable.asm).toBe(off.asm);
    expect(off.asm).toContain("count_free_22:");
  });

  it("mallocs, callocs and reallocs (page entries, hash table, token and output buffers)", () => {
    const { r } = traced([]);
    const libc = new Map(r.profile.symbols.filter((s) => s.image === "libc.so.6").map((s) => [s.symbol, s.cycles]));
    for (const f of ["malloc", "calloc", "realloc", "free"]) expect(libc.get(f) ?? 0, f).toBeGreaterThan(0);
  });

  it("charges its phases to cc1's symbols", () => {
    const { r } = traced([], ["-O1"]);
    const cc1 = new Set(r.profile.symbols.filter((s) => s.image === "cc1" && s.cycles > 0).map((s) => s.symbol));
    for (const s of ["_cpp_lex_direct", "cpp_get_token", "ht_lookup", "c_lex_with_flags", "c_parser_declaration_or_fndef",
      "c_parser_statement_after_labels", "c_parser_binary_expression", "build_binary_op", "ggc_internal_alloc", "alloc_page",
      "expand_expr_real_1", "peephole2_optimize", "final_scan_insn", "assemble_variable"]) expect(cc1, s).toContain(s);
  });

  it("an object bigger than a page gets its own mapping", () => {
    const m = new Machine({ memMiB: 64, strace: (line) => calls.push(line) });
    const calls: string[] = [];
    compile(m, "big", `char *s = "${"x".repeat(6000)}";\n`);
    expect(calls.some((c) => c.startsWith("mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"))).toBe(true);
  });

  it("-fmem-report shows the GC heap, the quires and the peak RSS", () => {
    const { r } = traced(["MALLOC_NOZERO=1"], ["-fmem-report"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/mapped: 1048576 bytes in 1 quires of 256 pages \(MAP_NOZERO\)/);
    expect(r.stderr).toMatch(/Peak RSS: \d+ KiB; minor faults: \d+/);
    // mostly small objects: the 16-256 B orders hold most of the heap
    const rows = [...r.stderr.matchAll(/^ +(\d+) +(\d+) +(\d+)$/gm)].map((x) => [Number(x[1]), Number(x[2])]);
    const small = rows.filter(([size]) => size >= 16 && size <= 256).reduce((a, [, b]) => a + b, 0);
    const all = rows.reduce((a, [, b]) => a + b, 0);
    expect(small / all).toBeGreaterThan(0.8);
  });

  it("reads no memory it did not write: the same assembly from dirty, poisoned frames", () => {
    const progs = PROGRAMS.filter((p) => ["structs", "strings", "preproc"].includes(p.name));
    const run = (policy: "stock" | "nozero" | "uninitialized", poison: boolean, env: string[]) => {
      const m = new Machine({ memMiB: 64, policy, poison });
      m.k.vfs.writeFile("/prelude.h", PRELUDE);
      m.k.vfs.writeFile("/config.h", CONFIG_H);
      let out = "";
      for (const p of progs) {
        m.run(["memhog", "-p", "512"], { env: [...ENV, ...env] }); // leaves dirty frames behind
        const r = compile(m, p.name, p.src, ["-O1", ...(p.args ?? [])], [...ENV, ...env]);
        out += `${r.exitCode}${r.stderr}` + readFile(m, `${p.name}.s`);
      }
      return out;
    };
    const clean = run("stock", false, []);
    expect(run("nozero", true, ["MALLOC_NOZERO=1"])).toBe(clean);
    expect(run("uninitialized", false, ["MALLOC_NOZERO=1"])).toBe(clean);
  });

  it("most of its page faults are zero-fill anonymous faults, and the same inputs give the same counts", () => {
    const a = traced([]).r;
    const b = traced([]).r;
    expect(a.minflt).toBe(b.minflt);
    expect(a.cycles).toBe(b.cycles);
    expect(a.minflt).toBeGreaterThan(40);
    // zero-fill: a write fault that allocated (and, stock, cleared) a frame
    expect(a.counters.k[Kev.FAULT_ANON_WRITE] / a.minflt).toBeGreaterThan(0.8);
    expect(a.counters.k[Kev.CLEAR_HOT_BYTES] + a.counters.k[Kev.CLEAR_COLD_BYTES]).toBeGreaterThan(0);
  });
});
