//===- Attn.g4 - The grammar of .attn files -------------------------------===//
//
// The syntax of docs/language.md. The grammar is deliberately more general
// than the language: items take arbitrary expressions, element types are any
// identifier, masks are any expressions. Sema recognizes the supported forms
// and reports everything else with a message that names what is unsupported,
// which gives better diagnostics than a syntax error would.
//
// Left recursion is avoided on purpose: the parse depth then only grows with
// parentheses and brackets, which ParseTreeToAST.cpp bounds before parsing.
//
//===----------------------------------------------------------------------===//

grammar Attn;

file : (model | block)* EOF ;

model : 'model' name=ID '{' item* '}' ;

// A reusable attention block: value arguments, then `;` and param arguments.
block : 'block' name=ID '(' valueArgs=idList? (';' paramArgs=idList?)? ')'
        '{' item* '}' ;
idList : ID (',' ID)* ;

item
  : dimsItem
  | batchItem
  | tensorItem
  | defItem
  | outputItem
  | maskItem
  | headsItem
  | letItem
  | hopsItem
  | returnItem
  ;

dimsItem  : 'dims' dimDecl (',' dimDecl)* ;
batchItem : 'batch' dimDecl (',' dimDecl)* ;
dimDecl   : name=ID ('=' size=INT)? ;

tensorItem : role=('input' | 'param') ID (',' ID)* ':' tensorType ;
tensorType : elem=ID '[' (shapeDim (',' shapeDim)*)? ']' ;
shapeDim   : dimFactor ('*' dimFactor)* ;
dimFactor  : ID | INT ;

// `score e[i, l] = ...` binds index names (query, key; see docs/language.md)
// for a score modifier; Sema accepts binders on `score` only.
defItem
  : kind=('feature' | 'query' | 'keys' | 'values' | 'score' | 'align'
          | 'context')
    name=ID ('[' binders=idList ']')? '=' expr
  ;

// `output O = c`, `output O : bf16[b, n, d] = c` or, the shape inferred,
// `output O : bf16 = c`.
outputItem : 'output' name=ID (':' (tensorType | elemOnly=ID))? '=' expr ;

// `mask causal, lengths(L)`, or a predicate over bound indices:
// `mask [i, l]: l <= i && seg[i] == seg[l]`.
maskItem : 'mask' ('[' binders=idList ']' ':')? expr (',' expr)* ;

headsItem : 'heads' count=(ID | INT) '{' item* '}' ;

letItem : 'let' name=ID '=' expr ;

// `hops 3 { ... }` or `hops 3 untied { ... }` (`untied` is checked by the
// AST builder, so that it stays an ordinary identifier elsewhere).
hopsItem : 'hops' count=INT hopMode=ID? '{' item* '}' ;

returnItem : 'return' expr ;

// Precedence, loosest first: ||, &&, comparisons (not associative), + -,
// * /, unary minus and !, juxtaposition (`W x` applies the linear map W to
// x; `A B x` is A (B x)), subscripts (`T[i, l]`).
expr     : andExpr (op+='||' andExpr)* ;
andExpr  : cmpExpr (op+='&&' cmpExpr)* ;
cmpExpr  : sumExpr (op=('<' | '<=' | '>' | '>=' | '==' | '!=') sumExpr)? ;
sumExpr  : mulExpr (op+=('+' | '-') mulExpr)* ;
mulExpr  : unaryExpr (op+=('*' | '/') unaryExpr)* ;
unaryExpr : neg+=('-' | '!')* applyExpr ;
applyExpr : postfix+ ;
postfix  : primary ('[' subscripts+=expr (',' subscripts+=expr)* ']')? ;
primary
  : callee=ID '(' callArgs? ')' ('with' set=ID)?  # callPrimary
  | ID                              # namePrimary
  | INT                             # intPrimary
  | FLOAT                           # floatPrimary
  | '(' expr ')'                    # parenPrimary
  ;

// `f(a, b; p1, p2, key = v)`: positional arguments, then optionally `;` and
// the parameters; named arguments may appear in either list.
callArgs : argList (';' argList?)? | ';' argList ;
argList  : arg (',' arg)* ;
arg      : key=ID '=' expr | expr ;

ID    : [a-zA-Z_] [a-zA-Z_0-9]* ;
INT   : [0-9]+ ;
FLOAT : [0-9]+ '.' [0-9]* ([eE] [+-]? [0-9]+)? | [0-9]+ [eE] [+-]? [0-9]+ ;

LINE_COMMENT  : '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
WS            : [ \t\r\n\f]+ -> skip ;

// Anything else becomes one token so that the parser, not the lexer, reports
// it with a precise location and a readable message.
INVALID_CHAR : . ;
