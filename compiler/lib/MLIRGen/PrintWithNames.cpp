//===- PrintWithNames.cpp - IR printed with the models' argument names ----===//
//
// MLIR prints the arguments of a func.func as %arg0, %arg1, ... (func.func
// names no block arguments, and no hook lets a dialect do it). For
// `--emit=attn` and `--emit=loops`, where a reader follows the program's
// own names, each model function's arguments are shown under the names
// their `attn.arg` attributes carry (`%X`, `%Wq`); a name that some other
// value of that function already prints as gets an `_arg` suffix. The text
// stays valid MLIR (SSA names are free), so it parses back.
//
//===----------------------------------------------------------------------===//

#include "attnc/MLIRGen/MLIRGen.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {

/// Whether `name` can follow `%` in MLIR's textual form.
bool isSSAName(llvm::StringRef name) {
  if (name.empty() || llvm::isDigit(name[0]))
    return false;
  return llvm::all_of(name, [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.' || c == '-';
  });
}

/// Whether `text` contains `%name` as a whole SSA name.
bool mentions(llvm::StringRef text, llvm::StringRef name) {
  std::string needle = ("%" + name).str();
  for (size_t at = text.find(needle); at != llvm::StringRef::npos;
       at = text.find(needle, at + 1)) {
    size_t end = at + needle.size();
    if (end >= text.size() || !(llvm::isAlnum(text[end]) || text[end] == '_' ||
                                text[end] == '$' || text[end] == '.' ||
                                text[end] == '-' || text[end] == '#'))
      return true;
  }
  return false;
}

} // namespace

void attnc::printWithArgumentNames(ModuleOp module, llvm::raw_ostream &os) {
  std::string text;
  llvm::raw_string_ostream printed(text);
  module->print(printed);
  printed.flush();

  for (func::FuncOp fn : module.getOps<func::FuncOp>()) {
    // The names of this function's arguments, by position.
    std::vector<std::string> names(fn.getNumArguments());
    bool any = false;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (auto arg = fn.getArgAttrOfType<DictionaryAttr>(i, "attn.arg"))
        if (auto name = arg.getAs<StringAttr>("name"))
          if (isSSAName(name.getValue())) {
            names[i] = name.getValue().str();
            any = true;
          }
    if (!any)
      continue;
    // The function's text: from its header to the closing brace at its
    // indentation.
    std::string header = ("  func.func @" + fn.getSymName() + "(").str();
    size_t begin = text.find(header);
    if (begin == std::string::npos)
      continue;
    size_t end = text.find("\n  }\n", begin);
    if (end == std::string::npos)
      continue;
    end += 4;
    std::string body = text.substr(begin, end - begin);
    // %argN -> %name (or %name_arg when %name is taken), longest N first so
    // that %arg1 does not match inside %arg12.
    std::vector<std::pair<std::string, std::string>> renames;
    for (unsigned i = 0; i < names.size(); ++i) {
      if (names[i].empty())
        continue;
      std::string name = names[i];
      while (mentions(body, name))
        name += "_arg";
      renames.emplace_back("%arg" + std::to_string(i), "%" + name);
    }
    llvm::sort(renames, [](const auto &a, const auto &b) {
      return a.first.size() > b.first.size();
    });
    for (auto &[from, to] : renames) {
      std::string out;
      size_t pos = 0;
      for (size_t at = body.find(from); at != std::string::npos;
           at = body.find(from, at + from.size())) {
        size_t after = at + from.size();
        if (after < body.size() && llvm::isDigit(body[after]))
          continue; // %arg12 when renaming %arg1
        out.append(body, pos, at - pos);
        out += to;
        pos = after;
      }
      out.append(body, pos, std::string::npos);
      body = std::move(out);
    }
    text.replace(begin, end - begin, body);
  }
  os << text;
}
