// cc1 token kinds, the cpp_token record in user memory, punctuator spellings
// and the reserved words (the RID_* codes c_lex turns identifiers into).
//
// A token is 20 bytes, in token vectors, macro bodies and argument buffers:
//   +0  u8  kind
//   +1  u8  flags (PREV_WHITE, BOL, NO_EXPAND, STRINGIFY, PASTE_LEFT)
//   +4  u32 line
//   +8  u32 file<<16 | column (byte column, 1-based, clamped to 65535)
//   +12 u32 val   identifier node; spelling pointer (number, string, char);
//                 parameter index (MACRO_ARG); character (OTHER); value (INT/CHR after c_lex)
//   +16 u32 val2  spelling length; after c_lex: integer flags or string length

export const TOK_SIZE = 20;
export const TK_KIND = 0;
export const TK_FLAGS = 1;
export const TK_LINE = 4;
export const TK_FC = 8;
export const TK_VAL = 12;
export const TK_VAL2 = 16;

// flags
export const PREV_WHITE = 1;
export const BOL = 2;
export const NO_EXPAND = 4;
export const STRINGIFY = 8;
export const PASTE_LEFT = 16;

export enum T {
  EOF = 0,
  IDENT,
  NUMBER, // pp-number (spelling)
  CHAR, // character constant (spelling)
  STRING, // string literal (spelling, quotes included)
  HEADER, // <...> header name in #include
  OTHER, // a stray character
  EOL, // end of a directive line
  MACRO_ARG, // a parameter in a macro body
  PLACEMARKER,
  // punctuators
  LPAREN, RPAREN, LBRACK, RBRACK, LBRACE, RBRACE, COMMA, SEMI, DOT, ARROW,
  INC, DEC, AMP, STAR, PLUS, MINUS, TILDE, NOT, SLASH, PERCENT, SHL, SHR,
  LT, GT, LE, GE, EQ, NE, CARET, BAR, ANDAND, OROR, QUESTION, COLON,
  ASSIGN, MUL_ASSIGN, DIV_ASSIGN, MOD_ASSIGN, ADD_ASSIGN, SUB_ASSIGN,
  SHL_ASSIGN, SHR_ASSIGN, AND_ASSIGN, XOR_ASSIGN, OR_ASSIGN, ELLIPSIS, HASH, PASTE,
  // after c_lex
  INT, // integer constant: val = value, val2 = INT_* flags
  CHR, // character constant: val = value
  STR, // string literal: val = ggc bytes (NUL-terminated), val2 = length without the NUL
  // keywords (c_lex: identifiers with a RID code)
  KW_FIRST,
  KW_AUTO = KW_FIRST, KW_BREAK, KW_CASE, KW_CHAR, KW_CONST, KW_CONTINUE, KW_DEFAULT, KW_DO,
  KW_DOUBLE, KW_ELSE, KW_ENUM, KW_EXTERN, KW_FLOAT, KW_FOR, KW_GOTO, KW_IF, KW_INLINE, KW_INT,
  KW_LONG, KW_REGISTER, KW_RETURN, KW_SHORT, KW_SIGNED, KW_SIZEOF, KW_STATIC, KW_STRUCT,
  KW_SWITCH, KW_TYPEDEF, KW_UNION, KW_UNSIGNED, KW_VOID, KW_VOLATILE, KW_WHILE, KW_SYSCALL,
  KW_LAST,
}

/** Integer constant flags (val2 of an INT token). */
export const INT_UNSIGNED = 1;
export const INT_LONG = 2;

export const KEYWORDS: readonly [string, T][] = [
  ["auto", T.KW_AUTO], ["break", T.KW_BREAK], ["case", T.KW_CASE], ["char", T.KW_CHAR],
  ["const", T.KW_CONST], ["continue", T.KW_CONTINUE], ["default", T.KW_DEFAULT], ["do", T.KW_DO],
  ["double", T.KW_DOUBLE], ["else", T.KW_ELSE], ["enum", T.KW_ENUM], ["extern", T.KW_EXTERN],
  ["float", T.KW_FLOAT], ["for", T.KW_FOR], ["goto", T.KW_GOTO], ["if", T.KW_IF],
  ["inline", T.KW_INLINE], ["int", T.KW_INT], ["long", T.KW_LONG], ["register", T.KW_REGISTER],
  ["return", T.KW_RETURN], ["short", T.KW_SHORT], ["signed", T.KW_SIGNED], ["sizeof", T.KW_SIZEOF],
  ["static", T.KW_STATIC], ["struct", T.KW_STRUCT], ["switch", T.KW_SWITCH], ["typedef", T.KW_TYPEDEF],
  ["union", T.KW_UNION], ["unsigned", T.KW_UNSIGNED], ["void", T.KW_VOID], ["volatile", T.KW_VOLATILE],
  ["while", T.KW_WHILE], ["__syscall", T.KW_SYSCALL], ["__inline", T.KW_INLINE], ["__inline__", T.KW_INLINE],
  ["__const", T.KW_CONST], ["__volatile__", T.KW_VOLATILE], ["__signed__", T.KW_SIGNED],
];

/** Spellings of the punctuators (and keywords), by kind. */
export const SPELL: string[] = [];
{
  const p: [T, string][] = [
    [T.LPAREN, "("], [T.RPAREN, ")"], [T.LBRACK, "["], [T.RBRACK, "]"], [T.LBRACE, "{"], [T.RBRACE, "}"],
    [T.COMMA, ","], [T.SEMI, ";"], [T.DOT, "."], [T.ARROW, "->"], [T.INC, "++"], [T.DEC, "--"],
    [T.AMP, "&"], [T.STAR, "*"], [T.PLUS, "+"], [T.MINUS, "-"], [T.TILDE, "~"], [T.NOT, "!"],
    [T.SLASH, "/"], [T.PERCENT, "%"], [T.SHL, "<<"], [T.SHR, ">>"], [T.LT, "<"], [T.GT, ">"],
    [T.LE, "<="], [T.GE, ">="], [T.EQ, "=="], [T.NE, "!="], [T.CARET, "^"], [T.BAR, "|"],
    [T.ANDAND, "&&"], [T.OROR, "||"], [T.QUESTION, "?"], [T.COLON, ":"], [T.ASSIGN, "="],
    [T.MUL_ASSIGN, "*="], [T.DIV_ASSIGN, "/="], [T.MOD_ASSIGN, "%="], [T.ADD_ASSIGN, "+="],
    [T.SUB_ASSIGN, "-="], [T.SHL_ASSIGN, "<<="], [T.SHR_ASSIGN, ">>="], [T.AND_ASSIGN, "&="],
    [T.XOR_ASSIGN, "^="], [T.OR_ASSIGN, "|="], [T.ELLIPSIS, "..."], [T.HASH, "#"], [T.PASTE, "##"],
  ];
  for (const [k, s] of p) SPELL[k] = s;
  for (const [s, k] of KEYWORDS) SPELL[k] ??= s;
}

export function isKeyword(k: number): boolean {
  return k >= T.KW_FIRST && k < T.KW_LAST;
}
