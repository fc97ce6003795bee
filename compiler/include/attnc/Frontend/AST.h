//===- AST.h - The syntax tree of .attn files -------------------*- C++ -*-===//
//
// What the parser produces and Sema consumes: plain structs mirroring the
// grammar (compiler/lib/Frontend/Attn.g4), each with the location of its first
// token. The tree is as general as the grammar; whether an expression is one
// of the supported forms is Sema's decision, so that it can say why not.
// No ANTLR type appears here.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_FRONTEND_AST_H
#define ATTNC_FRONTEND_AST_H

#include "attnc/Frontend/ModelSpec.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnc {
namespace ast {

/// A name together with where it was written.
struct Ident {
  std::string name;
  SourceLoc loc;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// `key = value` inside a call's argument list.
struct NamedArg {
  Ident key;
  ExprPtr value;
};

/// One expression node; which fields are meaningful depends on `kind`.
struct Expr {
  enum class Kind {
    Name,   ///< `name`
    Int,    ///< `intValue`
    Float,  ///< `floatValue`
    Neg,    ///< `-operands[0]`
    Not,    ///< `!operands[0]`
    Binary, ///< `operands[0] op operands[1]`, op one of + - * / and `&`
            ///< (`&&`), `|` (`||`)
    Compare, ///< `operands[0] name operands[1]`, name one of < <= > >= == !=
    Apply,  ///< `operands[0] operands[1]`: juxtaposition, a linear map
    Call,   ///< `name(operands...; params..., named...) [with set]`
    Index   ///< `name[operands...]`: an element of a tensor
  };
  Kind kind = Kind::Name;
  SourceLoc loc; ///< The first token of the expression.
  std::string name;
  int64_t intValue = 0;
  double floatValue = 0;
  char op = 0;
  SourceLoc opLoc; ///< Binary: the operator.
  std::vector<ExprPtr> operands;
  /// Call: true when the argument list has a `;` (even with no parameters).
  bool hasParamList = false;
  std::vector<ExprPtr> params;
  std::vector<NamedArg> named;
  /// Call: the parameter set of a block call (`with set`), empty if none.
  Ident withSet;
};

/// One factor of a shape entry: a dimension name or an integer literal.
struct DimFactor {
  bool isName = false;
  std::string name;
  int64_t value = 0;
  SourceLoc loc;
};

/// A shape entry: a product of one or more factors (`h * d_k`).
struct ShapeDim {
  std::vector<DimFactor> factors;
  SourceLoc loc;
};

/// `f32[b, n, d]`; the element type is kept as written and checked by Sema.
struct TensorType {
  Ident elemType;
  std::vector<ShapeDim> dims;
  /// False for an output typed by its element type alone (`output O : bf16
  /// = c`): the shape is the value's.
  bool shaped = true;
  SourceLoc loc;
};

/// `n` or `d = 64` in `dims`/`batch`.
struct DimDecl {
  Ident name;
  std::optional<int64_t> size;
};

struct Item {
  enum class Kind {
    Dims,
    Batch,
    Input,
    Param,
    Feature,
    Query,
    Keys,
    Values,
    Score,
    Align,
    Context,
    Output,
    Mask,
    Heads,
    Let,   ///< `let name = value`
    Hops,  ///< `hops count [untied] { body }`
    Return ///< `return value` (blocks)
  };
  Kind kind = Kind::Dims;
  SourceLoc loc; ///< The item's keyword.

  /// Dims, Batch.
  std::vector<DimDecl> dims;
  /// Input, Param: the declared names (they share `type`).
  std::vector<Ident> names;
  /// Input, Param; Output when annotated.
  std::optional<TensorType> type;
  /// Feature ... Output: the defined name and its definition.
  Ident name;
  ExprPtr value;
  /// Score, Mask: the index names bound by `score e[i, l] = ...` and
  /// `mask [i, l]: ...` (empty if none); `hasBinders` tells `[]` from none.
  std::vector<Ident> binders;
  bool hasBinders = false;
  /// Mask: the comma-separated entries (`causal`, `lengths(L)`), or the
  /// predicate when there are binders.
  std::vector<ExprPtr> masks;
  /// Heads: the count (a dimension name, or an integer when `countIsInt`)
  /// and the items of the block. Hops: the count (an integer) and the body.
  Ident count;
  bool countIsInt = false;
  int64_t countValue = 0;
  std::vector<Item> body;
  /// Hops: `untied` (each hop has its own parameter sets).
  bool untied = false;
};

struct Model {
  Ident name;
  SourceLoc loc; ///< The `model` keyword.
  std::vector<Item> items;
};

/// `block name(values...; params...) { items }`: a reusable attention
/// block, instantiated at each call.
struct Block {
  Ident name;
  SourceLoc loc; ///< The `block` keyword.
  std::vector<Ident> valueArgs;
  std::vector<Ident> paramArgs;
  std::vector<Item> items;
};

struct File {
  std::string filename;
  std::vector<Model> models;
  std::vector<Block> blocks;
};

/// The keyword that introduces an item of the given kind (`"score"`, ...).
const char *itemKeyword(Item::Kind kind);

} // namespace ast
} // namespace attnc

#endif // ATTNC_FRONTEND_AST_H
