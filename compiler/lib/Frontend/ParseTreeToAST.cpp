//===- ParseTreeToAST.cpp - .attn text to AST through ANTLR ---------------===//
//
// The only file that sees ANTLR. It is compiled with -fexceptions (the ANTLR
// runtime throws) while the rest of the compiler is not, so nothing may
// escape parseFile: every ANTLR error is turned into a diagnostic here.
//
// Robustness against hostile input is handled before and around ANTLR:
//  * the text must be valid UTF-8 (ANTLR's decoder throws otherwise);
//  * bracket nesting is bounded before parsing, because ANTLR's recursive
//    descent (and our tree walk) would otherwise overflow the stack;
//  * expressions are bounded in size, because long operator chains build
//    deep ASTs whose recursive destruction would overflow it too;
//  * integers that do not fit in 64 bits are reported, not wrapped.
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"

#include "AttnLexer.h"
#include "AttnParser.h"
#include "antlr4-runtime.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cctype>

using namespace attnc;
using namespace attn_gen;

namespace {

/// Deeper bracket nesting than this is rejected before parsing.
constexpr unsigned kMaxNesting = 128;
/// More AST nodes than this in one expression are rejected.
constexpr unsigned kMaxExprNodes = 4096;
/// Syntax errors after this many are not reported (they are mostly
/// consequences of the first ones).
constexpr unsigned kMaxSyntaxErrors = 20;

/// Maps ANTLR's code-point indices to 1-based line and byte columns, which is
/// what SourceMgr expects.
class SourceText {
public:
  SourceText(std::string file, llvm::StringRef text)
      : file(std::move(file)), text(text) {
    lineStarts.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n')
        lineStarts.push_back(i + 1);
    bool ascii = std::all_of(text.begin(), text.end(),
                             [](char c) { return (unsigned char)c < 0x80; });
    if (!ascii) {
      for (size_t i = 0; i < text.size(); ++i)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
          cpToByte.push_back(i);
    }
  }

  SourceLoc locOfByte(size_t offset) const {
    offset = std::min(offset, text.size());
    auto it = std::upper_bound(lineStarts.begin(), lineStarts.end(), offset);
    size_t line = it - lineStarts.begin();
    SourceLoc loc;
    loc.file = file;
    loc.line = unsigned(line);
    loc.col = unsigned(offset - lineStarts[line - 1] + 1);
    return loc;
  }

  SourceLoc locOfCodePoint(size_t index) const {
    if (cpToByte.empty())
      return locOfByte(index);
    return locOfByte(index < cpToByte.size() ? cpToByte[index] : text.size());
  }

  SourceLoc locOf(antlr4::Token *token) const {
    if (!token)
      return locOfByte(text.size());
    size_t start = token->getStartIndex();
    if (token->getType() == antlr4::Token::EOF || start == size_t(-1))
      return locOfByte(text.size());
    return locOfCodePoint(start);
  }

  const std::string file;
  const llvm::StringRef text;

private:
  std::vector<size_t> lineStarts;
  std::vector<size_t> cpToByte; ///< Empty when the text is pure ASCII.
};

/// Makes a message printable whatever bytes the input held.
std::string sanitize(llvm::StringRef message) {
  std::string out;
  llvm::raw_string_ostream os(out);
  for (unsigned char c : message) {
    if (c >= 0x20 && c < 0x7F)
      os << c;
    else if (c >= 0x80)
      os << c; // Part of valid UTF-8 (checked before parsing).
    else
      os << "\\x" << llvm::format_hex_no_prefix(c, 2);
  }
  os.flush();
  size_t pos;
  while ((pos = out.find("<EOF>")) != std::string::npos)
    out.replace(pos, 5, "end of file");
  return out;
}

/// ANTLR lists every token it could accept ("expecting {'}', 'dims', ...}");
/// past a few that is noise, so the list is dropped.
std::string shorten(std::string msg) {
  size_t pos = msg.find(" expecting {");
  if (pos != std::string::npos &&
      std::count(msg.begin() + pos, msg.end(), ',') >= 4)
    msg.erase(pos);
  return msg;
}

/// The language's keywords: the literal tokens that look like names.
bool isKeyword(antlr4::Token *token) {
  if (!token || token->getType() == antlr4::Token::EOF)
    return false;
  std::string text = token->getText();
  return token->getType() != AttnLexer::ID && !text.empty() &&
         (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_');
}

/// ` (did you mean 'query'?)` when a name where the parser stopped is a
/// misspelled keyword (at most a third of its letters off).
std::string keywordSuggestion(antlr4::Token *token) {
  if (!token || token->getType() != AttnLexer::ID)
    return "";
  static const std::vector<std::string> keywords = {
      "model",   "block",  "dims",   "batch",  "input",  "param", "feature",
      "query",   "keys",   "values", "score",  "align",  "context",
      "output",  "mask",   "heads",  "let",    "hops",   "return", "with"};
  return didYouMean(token->getText(), keywords);
}

/// Reports ANTLR's syntax errors as diagnostics instead of printing them.
class ErrorListener : public antlr4::BaseErrorListener {
public:
  ErrorListener(const SourceText &text, DiagnosticReporter &diag)
      : text(text), diag(diag) {}

  void syntaxError(antlr4::Recognizer *, antlr4::Token *offendingSymbol,
                   size_t line, size_t charPositionInLine,
                   const std::string &msg, std::exception_ptr) override {
    ++count;
    if (count > kMaxSyntaxErrors)
      return;
    SourceLoc loc;
    if (offendingSymbol) {
      loc = text.locOf(offendingSymbol);
    } else {
      loc.file = text.file;
      loc.line = unsigned(line);
      loc.col = unsigned(charPositionInLine + 1);
    }
    if (offendingSymbol &&
        offendingSymbol->getType() == AttnLexer::INVALID_CHAR)
      diag.error(loc, "invalid character '" +
                          sanitize(offendingSymbol->getText()) + "'");
    else if (offendingSymbol &&
             offendingSymbol->getType() == antlr4::Token::EOF)
      diag.error(loc, "syntax error: unexpected end of file");
    else if (isKeyword(offendingSymbol))
      diag.error(loc, "syntax error: " + sanitize(shorten(msg)) + " ('" +
                          offendingSymbol->getText() +
                          "' is a reserved keyword and cannot be a name)");
    else
      diag.error(loc, "syntax error: " + sanitize(shorten(msg)) +
                          keywordSuggestion(offendingSymbol));
    if (count == kMaxSyntaxErrors)
      diag.note(loc, "too many syntax errors; stopping here");
  }

  unsigned count = 0;

private:
  const SourceText &text;
  DiagnosticReporter &diag;
};

/// Walks a parse tree that had no syntax errors (so every expected child is
/// present) and builds the AST.
class ASTBuilder {
public:
  ASTBuilder(const SourceText &text, DiagnosticReporter &diag)
      : text(text), diag(diag) {}

  bool failed = false;

  std::unique_ptr<ast::File> buildFile(AttnParser::FileContext *ctx) {
    auto file = std::make_unique<ast::File>();
    file->filename = text.file;
    for (auto *m : ctx->model())
      file->models.push_back(buildModel(m));
    for (auto *b : ctx->block())
      file->blocks.push_back(buildBlock(b));
    return file;
  }

private:
  SourceLoc loc(antlr4::Token *token) const { return text.locOf(token); }
  SourceLoc loc(antlr4::tree::TerminalNode *node) const {
    return text.locOf(node ? node->getSymbol() : nullptr);
  }
  SourceLoc loc(antlr4::ParserRuleContext *ctx) const {
    return text.locOf(ctx->getStart());
  }

  ast::Ident ident(antlr4::Token *token) {
    return ast::Ident{token->getText(), loc(token)};
  }

  int64_t parseInt(antlr4::Token *token) {
    int64_t value = 0;
    if (llvm::StringRef(token->getText()).getAsInteger(10, value)) {
      error(loc(token), "integer too large: '" + token->getText() + "'");
      return 0;
    }
    return value;
  }

  void error(const SourceLoc &l, const llvm::Twine &message) {
    diag.error(l, message);
    failed = true;
  }

  ast::Model buildModel(AttnParser::ModelContext *ctx) {
    ast::Model model;
    model.loc = loc(ctx);
    model.name = ident(ctx->name);
    for (auto *item : ctx->item())
      model.items.push_back(buildItem(item));
    return model;
  }

  ast::Block buildBlock(AttnParser::BlockContext *ctx) {
    ast::Block block;
    block.loc = loc(ctx);
    block.name = ident(ctx->name);
    if (ctx->valueArgs)
      for (auto *id : ctx->valueArgs->ID())
        block.valueArgs.push_back(ident(id->getSymbol()));
    if (ctx->paramArgs)
      for (auto *id : ctx->paramArgs->ID())
        block.paramArgs.push_back(ident(id->getSymbol()));
    for (auto *item : ctx->item())
      block.items.push_back(buildItem(item));
    return block;
  }

  ast::Item buildItem(AttnParser::ItemContext *ctx) {
    ast::Item item;
    item.loc = loc(ctx);
    if (auto *d = ctx->dimsItem()) {
      item.kind = ast::Item::Kind::Dims;
      for (auto *decl : d->dimDecl())
        item.dims.push_back(buildDimDecl(decl));
    } else if (auto *b = ctx->batchItem()) {
      item.kind = ast::Item::Kind::Batch;
      for (auto *decl : b->dimDecl())
        item.dims.push_back(buildDimDecl(decl));
    } else if (auto *t = ctx->tensorItem()) {
      item.kind = t->role->getText() == "input" ? ast::Item::Kind::Input
                                                : ast::Item::Kind::Param;
      for (auto *id : t->ID())
        item.names.push_back(ident(id->getSymbol()));
      item.type = buildType(t->tensorType());
    } else if (auto *d = ctx->defItem()) {
      item.kind = defKind(d->kind->getText());
      item.name = ident(d->name);
      if (d->binders) {
        item.hasBinders = true;
        for (auto *id : d->binders->ID())
          item.binders.push_back(ident(id->getSymbol()));
      }
      item.value = buildTopExpr(d->expr());
    } else if (auto *o = ctx->outputItem()) {
      item.kind = ast::Item::Kind::Output;
      item.name = ident(o->name);
      if (o->tensorType()) {
        item.type = buildType(o->tensorType());
      } else if (o->elemOnly) {
        ast::TensorType type;
        type.elemType = ident(o->elemOnly);
        type.loc = type.elemType.loc;
        type.shaped = false;
        item.type = std::move(type);
      }
      item.value = buildTopExpr(o->expr());
    } else if (auto *m = ctx->maskItem()) {
      item.kind = ast::Item::Kind::Mask;
      if (m->binders) {
        item.hasBinders = true;
        for (auto *id : m->binders->ID())
          item.binders.push_back(ident(id->getSymbol()));
      }
      for (auto *e : m->expr())
        item.masks.push_back(buildTopExpr(e));
    } else if (auto *h = ctx->headsItem()) {
      item.kind = ast::Item::Kind::Heads;
      item.count = ident(h->count);
      if (h->INT()) {
        item.countIsInt = true;
        item.countValue = parseInt(h->count);
      }
      for (auto *sub : h->item())
        item.body.push_back(buildItem(sub));
    } else if (auto *l = ctx->letItem()) {
      item.kind = ast::Item::Kind::Let;
      item.name = ident(l->name);
      item.value = buildTopExpr(l->expr());
    } else if (auto *h = ctx->hopsItem()) {
      item.kind = ast::Item::Kind::Hops;
      item.count = ident(h->count);
      item.countIsInt = true;
      item.countValue = parseInt(h->count);
      if (h->hopMode) {
        if (h->hopMode->getText() == "untied")
          item.untied = true;
        else if (h->hopMode->getText() != "shared")
          error(loc(h->hopMode), "expected 'shared' or 'untied' after the "
                              "number of hops, got '" +
                                  h->hopMode->getText() + "'");
      }
      for (auto *sub : h->item())
        item.body.push_back(buildItem(sub));
    } else if (auto *r = ctx->returnItem()) {
      item.kind = ast::Item::Kind::Return;
      item.value = buildTopExpr(r->expr());
    }
    return item;
  }

  static ast::Item::Kind defKind(const std::string &keyword) {
    using K = ast::Item::Kind;
    if (keyword == "feature")
      return K::Feature;
    if (keyword == "query")
      return K::Query;
    if (keyword == "keys")
      return K::Keys;
    if (keyword == "values")
      return K::Values;
    if (keyword == "score")
      return K::Score;
    if (keyword == "align")
      return K::Align;
    return K::Context;
  }

  ast::DimDecl buildDimDecl(AttnParser::DimDeclContext *ctx) {
    ast::DimDecl decl;
    decl.name = ident(ctx->name);
    if (ctx->size)
      decl.size = parseInt(ctx->size);
    return decl;
  }

  ast::TensorType buildType(AttnParser::TensorTypeContext *ctx) {
    ast::TensorType type;
    type.loc = loc(ctx);
    type.elemType = ident(ctx->elem);
    for (auto *dim : ctx->shapeDim()) {
      ast::ShapeDim shapeDim;
      shapeDim.loc = loc(dim);
      for (auto *f : dim->dimFactor()) {
        ast::DimFactor factor;
        factor.loc = loc(f);
        if (f->ID()) {
          factor.isName = true;
          factor.name = f->ID()->getText();
        } else {
          factor.value = parseInt(f->INT()->getSymbol());
        }
        shapeDim.factors.push_back(std::move(factor));
      }
      type.dims.push_back(std::move(shapeDim));
    }
    return type;
  }

  // Expressions. `nodes` counts the nodes of the current top-level
  // expression; past the limit the expression is reported and cut short.

  ast::ExprPtr buildTopExpr(AttnParser::ExprContext *ctx) {
    nodes = 0;
    tooLarge = false;
    return buildExpr(ctx);
  }

  ast::ExprPtr newExpr(ast::Expr::Kind kind, const SourceLoc &l) {
    if (++nodes > kMaxExprNodes && !tooLarge) {
      tooLarge = true;
      error(l, "expression too large (more than " + llvm::Twine(kMaxExprNodes) +
                   " terms)");
    }
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->loc = l;
    return e;
  }

  /// Folds `operands[0] op[0] operands[1] ...` to the left.
  template <typename OperandCtx, typename BuildFn>
  ast::ExprPtr foldBinary(const std::vector<OperandCtx *> &operands,
                          const std::vector<antlr4::Token *> &ops,
                          BuildFn build) {
    ast::ExprPtr lhs = build(operands[0]);
    for (size_t i = 1; i < operands.size() && !tooLarge; ++i) {
      auto bin = newExpr(ast::Expr::Kind::Binary, lhs->loc);
      bin->op = i - 1 < ops.size() ? ops[i - 1]->getText()[0] : '?';
      bin->opLoc = i - 1 < ops.size() ? loc(ops[i - 1]) : lhs->loc;
      bin->operands.push_back(std::move(lhs));
      bin->operands.push_back(build(operands[i]));
      lhs = std::move(bin);
    }
    return lhs;
  }

  ast::ExprPtr buildExpr(AttnParser::ExprContext *ctx) {
    return foldBinary(ctx->andExpr(), ctx->op,
                      [&](AttnParser::AndExprContext *a) {
                        return foldBinary(a->cmpExpr(), a->op,
                                          [&](AttnParser::CmpExprContext *c) {
                                            return buildCompare(c);
                                          });
                      });
  }

  ast::ExprPtr buildCompare(AttnParser::CmpExprContext *ctx) {
    ast::ExprPtr lhs = buildSum(ctx->sumExpr(0));
    if (!ctx->op || tooLarge)
      return lhs;
    auto cmp = newExpr(ast::Expr::Kind::Compare, lhs->loc);
    cmp->name = ctx->op->getText();
    cmp->opLoc = loc(ctx->op);
    cmp->operands.push_back(std::move(lhs));
    cmp->operands.push_back(buildSum(ctx->sumExpr(1)));
    return cmp;
  }

  ast::ExprPtr buildSum(AttnParser::SumExprContext *ctx) {
    return foldBinary(ctx->mulExpr(), ctx->op,
                      [&](AttnParser::MulExprContext *m) {
                        return foldBinary(m->unaryExpr(), m->op,
                                          [&](AttnParser::UnaryExprContext *u) {
                                            return buildUnary(u);
                                          });
                      });
  }

  ast::ExprPtr buildUnary(AttnParser::UnaryExprContext *ctx) {
    ast::ExprPtr e = buildApply(ctx->applyExpr());
    for (size_t i = ctx->neg.size(); i-- > 0 && !tooLarge;) {
      bool isNot = ctx->neg[i]->getText() == "!";
      auto neg = newExpr(isNot ? ast::Expr::Kind::Not : ast::Expr::Kind::Neg,
                         loc(ctx->neg[i]));
      neg->operands.push_back(std::move(e));
      e = std::move(neg);
    }
    return e;
  }

  /// `T[i, l]`: an element of the tensor T.
  ast::ExprPtr buildPostfix(AttnParser::PostfixContext *ctx) {
    ast::ExprPtr e = buildPrimary(ctx->primary());
    if (ctx->subscripts.empty() || tooLarge)
      return e;
    auto index = newExpr(ast::Expr::Kind::Index, e->loc);
    index->operands.push_back(std::move(e));
    for (auto *sub : ctx->subscripts)
      index->operands.push_back(buildExpr(sub));
    return index;
  }

  /// `A B x` is `A (B x)`: linear maps compose to the right.
  ast::ExprPtr buildApply(AttnParser::ApplyExprContext *ctx) {
    auto primaries = ctx->postfix();
    ast::ExprPtr e = buildPostfix(primaries.back());
    for (size_t i = primaries.size() - 1; i-- > 0 && !tooLarge;) {
      auto fn = buildPostfix(primaries[i]);
      auto app = newExpr(ast::Expr::Kind::Apply, fn->loc);
      app->operands.push_back(std::move(fn));
      app->operands.push_back(std::move(e));
      e = std::move(app);
    }
    return e;
  }

  ast::ExprPtr buildPrimary(AttnParser::PrimaryContext *ctx) {
    SourceLoc l = loc(ctx);
    if (auto *n = dynamic_cast<AttnParser::NamePrimaryContext *>(ctx)) {
      auto e = newExpr(ast::Expr::Kind::Name, l);
      e->name = n->ID()->getText();
      return e;
    }
    if (auto *i = dynamic_cast<AttnParser::IntPrimaryContext *>(ctx)) {
      auto e = newExpr(ast::Expr::Kind::Int, l);
      e->intValue = parseInt(i->INT()->getSymbol());
      return e;
    }
    if (auto *f = dynamic_cast<AttnParser::FloatPrimaryContext *>(ctx)) {
      auto e = newExpr(ast::Expr::Kind::Float, l);
      if (llvm::StringRef(f->FLOAT()->getText()).getAsDouble(e->floatValue))
        error(l, "invalid number '" + f->FLOAT()->getText() + "'");
      return e;
    }
    if (auto *p = dynamic_cast<AttnParser::ParenPrimaryContext *>(ctx))
      return buildExpr(p->expr());
    auto *c = dynamic_cast<AttnParser::CallPrimaryContext *>(ctx);
    auto e = newExpr(ast::Expr::Kind::Call, l);
    e->name = c->callee->getText();
    if (c->set)
      e->withSet = ident(c->set);
    if (auto *args = c->callArgs()) {
      // The children are argList, `;`, argList in source order; which list
      // an argument belongs to depends on whether the `;` came before it.
      bool afterSemicolon = false;
      for (auto *child : args->children) {
        if (auto *term = dynamic_cast<antlr4::tree::TerminalNode *>(child)) {
          if (term->getText() == ";") {
            afterSemicolon = true;
            e->hasParamList = true;
          }
          continue;
        }
        auto *list = dynamic_cast<AttnParser::ArgListContext *>(child);
        if (!list)
          continue;
        for (auto *arg : list->arg()) {
          if (arg->key) {
            e->named.push_back(
                ast::NamedArg{ident(arg->key), buildExpr(arg->expr())});
            continue;
          }
          auto &dest = afterSemicolon ? e->params : e->operands;
          dest.push_back(buildExpr(arg->expr()));
        }
      }
    }
    return e;
  }

  const SourceText &text;
  DiagnosticReporter &diag;
  unsigned nodes = 0;
  bool tooLarge = false;
};

/// Returns the byte offset of the first invalid UTF-8 sequence, if any.
std::optional<size_t> findInvalidUTF8(llvm::StringRef text) {
  const auto *begin = reinterpret_cast<const llvm::UTF8 *>(text.data());
  const auto *end = begin + text.size();
  const llvm::UTF8 *p = begin;
  while (p < end) {
    unsigned len = llvm::getNumBytesForUTF8(*p);
    if (len == 0 || p + len > end || !llvm::isLegalUTF8Sequence(p, p + len))
      return size_t(p - begin);
    p += len;
  }
  return std::nullopt;
}

/// Rejects bracket nesting deeper than kMaxNesting before the recursive
/// parser sees it.
bool checkNesting(antlr4::CommonTokenStream &tokens, const SourceText &text,
                  DiagnosticReporter &diag) {
  unsigned depth = 0;
  for (antlr4::Token *token : tokens.getTokens()) {
    std::string t = token->getText();
    if (t == "(" || t == "[" || t == "{") {
      if (++depth > kMaxNesting) {
        diag.error(text.locOf(token), "nesting too deep (more than " +
                                          llvm::Twine(kMaxNesting) +
                                          " levels of brackets)");
        return false;
      }
    } else if ((t == ")" || t == "]" || t == "}") && depth > 0) {
      --depth;
    }
  }
  return true;
}

std::unique_ptr<ast::File> parseText(const SourceText &text,
                                     DiagnosticReporter &diag) {
  ErrorListener listener(text, diag);
  antlr4::ANTLRInputStream input(text.text.str());
  AttnLexer lexer(&input);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&listener);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  if (listener.count > 0 || !checkNesting(tokens, text, diag))
    return nullptr;

  AttnParser parser(&tokens);
  parser.removeErrorListeners();
  parser.addErrorListener(&listener);
  AttnParser::FileContext *tree = parser.file();
  if (listener.count > 0 || parser.getNumberOfSyntaxErrors() > 0)
    return nullptr;

  ASTBuilder builder(text, diag);
  std::unique_ptr<ast::File> file = builder.buildFile(tree);
  if (builder.failed)
    return nullptr;
  return file;
}

} // namespace

std::unique_ptr<ast::File> attnc::parseFile(llvm::SourceMgr &sourceMgr,
                                            DiagnosticReporter &diag) {
  unsigned mainID = sourceMgr.getMainFileID();
  if (mainID == 0 || mainID > sourceMgr.getNumBuffers()) {
    diag.error(SourceLoc(), "no input buffer");
    return nullptr;
  }
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(mainID);
  SourceText text(buffer->getBufferIdentifier().str(), buffer->getBuffer());

  if (std::optional<size_t> bad = findInvalidUTF8(text.text)) {
    diag.error(text.locOfByte(*bad), "invalid UTF-8 in source");
    return nullptr;
  }

  // ANTLR reports failures by throwing; none of that may cross into the
  // -fno-exceptions part of the compiler.
  try {
    return parseText(text, diag);
  } catch (const std::exception &e) {
    diag.error(text.locOfByte(0),
               llvm::Twine("internal parser error: ") + sanitize(e.what()));
  } catch (...) {
    diag.error(text.locOfByte(0), "internal parser error");
  }
  return nullptr;
}
