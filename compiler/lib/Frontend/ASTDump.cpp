//===- ASTDump.cpp - Print the AST for --emit=ast -------------------------===//
//
// One line per item, with its location; expressions are printed in source
// syntax but fully parenthesized, so the dump shows how the parser grouped
// juxtaposition (`(W x)`) and operators (`((W x) + b)`).
//
//===----------------------------------------------------------------------===//

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Frontend.h"

#include "llvm/Support/Format.h"

using namespace attnc;
using namespace attnc::ast;

const char *ast::itemKeyword(Item::Kind kind) {
  switch (kind) {
  case Item::Kind::Dims:
    return "dims";
  case Item::Kind::Batch:
    return "batch";
  case Item::Kind::Input:
    return "input";
  case Item::Kind::Param:
    return "param";
  case Item::Kind::Feature:
    return "feature";
  case Item::Kind::Query:
    return "query";
  case Item::Kind::Keys:
    return "keys";
  case Item::Kind::Values:
    return "values";
  case Item::Kind::Score:
    return "score";
  case Item::Kind::Align:
    return "align";
  case Item::Kind::Context:
    return "context";
  case Item::Kind::Output:
    return "output";
  case Item::Kind::Mask:
    return "mask";
  case Item::Kind::Heads:
    return "heads";
  case Item::Kind::Let:
    return "let";
  case Item::Kind::Hops:
    return "hops";
  case Item::Kind::Return:
    return "return";
  }
  return "item";
}

namespace {

void printLoc(const SourceLoc &loc, llvm::raw_ostream &os) {
  os << " @" << loc.line << ":" << loc.col;
}

void printExpr(const Expr &e, llvm::raw_ostream &os) {
  switch (e.kind) {
  case Expr::Kind::Name:
    os << e.name;
    return;
  case Expr::Kind::Int:
    os << e.intValue;
    return;
  case Expr::Kind::Float:
    os << llvm::format("%g", e.floatValue);
    return;
  case Expr::Kind::Neg:
    os << "(-";
    printExpr(*e.operands[0], os);
    os << ")";
    return;
  case Expr::Kind::Not:
    os << "(!";
    printExpr(*e.operands[0], os);
    os << ")";
    return;
  case Expr::Kind::Binary:
    os << "(";
    printExpr(*e.operands[0], os);
    if (e.op == '&' || e.op == '|')
      os << " " << e.op << e.op << " ";
    else
      os << " " << e.op << " ";
    printExpr(*e.operands[1], os);
    os << ")";
    return;
  case Expr::Kind::Compare:
    os << "(";
    printExpr(*e.operands[0], os);
    os << " " << e.name << " ";
    printExpr(*e.operands[1], os);
    os << ")";
    return;
  case Expr::Kind::Index: {
    printExpr(*e.operands[0], os);
    llvm::StringRef sep = "[";
    for (size_t i = 1; i < e.operands.size(); ++i) {
      os << sep;
      printExpr(*e.operands[i], os);
      sep = ", ";
    }
    os << "]";
    return;
  }
  case Expr::Kind::Apply:
    os << "(";
    printExpr(*e.operands[0], os);
    os << " ";
    printExpr(*e.operands[1], os);
    os << ")";
    return;
  case Expr::Kind::Call: {
    os << e.name << "(";
    llvm::StringRef sep = "";
    for (const ExprPtr &arg : e.operands) {
      os << sep;
      printExpr(*arg, os);
      sep = ", ";
    }
    if (e.hasParamList) {
      os << ";";
      sep = " ";
      for (const ExprPtr &arg : e.params) {
        os << sep;
        printExpr(*arg, os);
        sep = ", ";
      }
    }
    for (const NamedArg &arg : e.named) {
      os << sep << arg.key.name << " = ";
      printExpr(*arg.value, os);
      sep = ", ";
    }
    os << ")";
    if (!e.withSet.name.empty())
      os << " with " << e.withSet.name;
    return;
  }
  }
}

void printType(const TensorType &type, llvm::raw_ostream &os) {
  os << type.elemType.name;
  if (!type.shaped)
    return;
  os << "[";
  llvm::StringRef sep = "";
  for (const ShapeDim &dim : type.dims) {
    os << sep;
    llvm::StringRef mul = "";
    for (const DimFactor &f : dim.factors) {
      os << mul;
      if (f.isName)
        os << f.name;
      else
        os << f.value;
      mul = " * ";
    }
    sep = ", ";
  }
  os << "]";
}

void printItem(const Item &item, unsigned indent, llvm::raw_ostream &os) {
  os.indent(indent) << itemKeyword(item.kind);
  switch (item.kind) {
  case Item::Kind::Dims:
  case Item::Kind::Batch: {
    llvm::StringRef sep = " ";
    for (const DimDecl &d : item.dims) {
      os << sep << d.name.name;
      if (d.size)
        os << " = " << *d.size;
      sep = ", ";
    }
    break;
  }
  case Item::Kind::Input:
  case Item::Kind::Param: {
    llvm::StringRef sep = " ";
    for (const Ident &n : item.names) {
      os << sep << n.name;
      sep = ", ";
    }
    os << " : ";
    printType(*item.type, os);
    break;
  }
  case Item::Kind::Mask: {
    llvm::StringRef sep = " ";
    if (item.hasBinders) {
      os << " [";
      llvm::StringRef bsep = "";
      for (const Ident &b : item.binders) {
        os << bsep << b.name;
        bsep = ", ";
      }
      os << "]:";
    }
    for (const ExprPtr &m : item.masks) {
      os << sep;
      printExpr(*m, os);
      sep = ", ";
    }
    break;
  }
  case Item::Kind::Return:
    os << " ";
    printExpr(*item.value, os);
    break;
  case Item::Kind::Heads:
  case Item::Kind::Hops:
    os << " " << item.count.name;
    if (item.untied)
      os << " untied";
    printLoc(item.loc, os);
    os << "\n";
    for (const Item &sub : item.body)
      printItem(sub, indent + 2, os);
    return;
  default:
    os << " " << item.name.name;
    if (item.hasBinders) {
      llvm::StringRef bsep = "[";
      for (const Ident &b : item.binders) {
        os << bsep << b.name;
        bsep = ", ";
      }
      os << "]";
    }
    if (item.type) {
      os << " : ";
      printType(*item.type, os);
    }
    os << " = ";
    printExpr(*item.value, os);
    break;
  }
  printLoc(item.loc, os);
  os << "\n";
}

} // namespace

void attnc::dumpAST(const File &file, llvm::raw_ostream &os) {
  os << "file '" << file.filename << "'\n";
  for (const Model &model : file.models) {
    os << "model " << model.name.name;
    printLoc(model.loc, os);
    os << "\n";
    for (const Item &item : model.items)
      printItem(item, 2, os);
  }
  for (const Block &block : file.blocks) {
    os << "block " << block.name.name << "(";
    llvm::StringRef sep = "";
    for (const Ident &arg : block.valueArgs) {
      os << sep << arg.name;
      sep = ", ";
    }
    if (!block.paramArgs.empty()) {
      os << ";";
      sep = " ";
      for (const Ident &arg : block.paramArgs) {
        os << sep << arg.name;
        sep = ", ";
      }
    }
    os << ")";
    printLoc(block.loc, os);
    os << "\n";
    for (const Item &item : block.items)
      printItem(item, 2, os);
  }
}
